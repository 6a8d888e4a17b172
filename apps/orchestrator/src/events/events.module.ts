import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { HistoryHttpController } from './history.http.controller.js';
import { HistoryRelay } from './history-relay.service.js';

/** Workflow history over HTTP: pages of it, and live streams relayed from what any replica commits. */
@Module({
  imports: [PersistenceModule],
  controllers: [HistoryHttpController],
  providers: [HistoryRelay],
})
export class EventsModule {}
