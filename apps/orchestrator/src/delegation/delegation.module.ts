import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module.js';
import { AgentRouter } from './agent-router.service.js';
import { DelegationService } from './delegation.service.js';
import { DispatchQueue } from './dispatch-queue.service.js';
import { QueueGauges } from './queue-gauges.js';

@Module({
  imports: [RegistryModule],
  providers: [DelegationService, AgentRouter, DispatchQueue, QueueGauges],
  exports: [DelegationService, AgentRouter, DispatchQueue],
})
export class DelegationModule {}
