import { Module } from '@nestjs/common';
import { AgentGauges } from './agent-gauges.js';
import { AgentAnnouncementsMessageController } from './agent-announcements.message.controller.js';
import { AgentLoadService } from './agent-load.service.js';
import { AgentRegistryService } from './agent-registry.service.js';
import { AgentsHttpController } from './agents.http.controller.js';
import { RateBuckets } from './rate-buckets.service.js';

@Module({
  controllers: [AgentAnnouncementsMessageController, AgentsHttpController],
  providers: [AgentRegistryService, AgentLoadService, AgentGauges, RateBuckets],
  exports: [AgentRegistryService, AgentLoadService, RateBuckets],
})
export class RegistryModule {}
