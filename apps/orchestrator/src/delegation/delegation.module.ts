import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { AgentRouter } from './agent-router.service.js';
import { DelegationService } from './delegation.service.js';
import { DispatchQueue } from './dispatch-queue.service.js';
import { QueueGauges } from './queue-gauges.js';
import { ReplyTokens } from './reply-tokens.js';

@Module({
  imports: [RegistryModule, PersistenceModule],
  providers: [DelegationService, AgentRouter, DispatchQueue, QueueGauges, ReplyTokens],
  exports: [DelegationService, AgentRouter, DispatchQueue, ReplyTokens],
})
export class DelegationModule {}
