import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { ApprovalsHttpController } from './approvals.http.controller.js';
import { SendSignalUseCase } from './send-signal.usecase.js';
import { SignalsHttpController } from './signals.http.controller.js';
import { SignalsMessageController } from './signals.message.controller.js';

/** What steps wait for, from outside: signals for workflows, the list of steps waiting for a person. */
@Module({
  imports: [EngineModule, PersistenceModule],
  controllers: [SignalsMessageController, SignalsHttpController, ApprovalsHttpController],
  providers: [SendSignalUseCase],
})
export class WaitingModule {}
