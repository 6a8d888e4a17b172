import { Module } from '@nestjs/common';
import { AgentAnnouncementsMessageController } from './agent-announcements.message.controller.js';
import { AgentRegistryService } from './agent-registry.service.js';
import { AgentsHttpController } from './agents.http.controller.js';

@Module({
  controllers: [AgentAnnouncementsMessageController, AgentsHttpController],
  providers: [AgentRegistryService],
  exports: [AgentRegistryService],
})
export class RegistryModule {}
