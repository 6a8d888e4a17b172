import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config.js';
import { dataSourceOptions } from './data-source-options.js';
import { TaskEventsRepository } from './task-events.repository.js';
import { TasksRepository } from './tasks.repository.js';
import { WaitsRepository } from './waits.repository.js';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config.DATABASE_URL, config.DB_POOL_SIZE),
        retryAttempts: 10,
        retryDelay: 1_000,
      }),
    }),
  ],
  providers: [TasksRepository, TaskEventsRepository, WaitsRepository],
  exports: [TasksRepository, TaskEventsRepository, WaitsRepository],
})
export class PersistenceModule {}
