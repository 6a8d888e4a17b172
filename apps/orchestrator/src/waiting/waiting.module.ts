import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { ApprovalsHttpController } from './approvals.http.controller.js';
import { EventRetention } from './event-retention.service.js';
import { ExternalEventsHttpController } from './external-events.http.controller.js';
import { ExternalEventsMessageController } from './external-events.message.controller.js';
import { PublishEventUseCase } from './publish-event.usecase.js';
import { SendSignalUseCase } from './send-signal.usecase.js';
import { SignalsHttpController } from './signals.http.controller.js';
import { SignalsMessageController } from './signals.message.controller.js';

/** What steps wait for, from outside: signals for workflows, external events, the list of steps waiting for a person. */
@Module({
  imports: [EngineModule, PersistenceModule],
  controllers: [SignalsMessageController, SignalsHttpController, ExternalEventsMessageController, ExternalEventsHttpController, ApprovalsHttpController],
  providers: [SendSignalUseCase, PublishEventUseCase, EventRetention],
})
export class WaitingModule {}
