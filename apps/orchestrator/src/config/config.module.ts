import { Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { AppConfig, validateConfig } from './app-config.js';

/** Loads `.env` (when present) over the environment, validates it once, and provides `AppConfig`. */
@Global()
@Module({
  imports: [ConfigModule.forRoot({ validate: validateConfig, cache: true })],
  providers: [
    {
      provide: AppConfig,
      inject: [ConfigService],
      // ConfigModule has merged `.env` into the environment by the time this runs.
      useFactory: (_loaded: ConfigService): AppConfig => validateConfig(process.env),
    },
  ],
  exports: [AppConfig],
})
export class AppConfigModule {}
