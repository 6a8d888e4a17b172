import { Module } from '@nestjs/common';
import { AgentGauges } from './agent-gauges.js';
import { AgentAnnouncementsMessageController } from './agent-announcements.message.controller.js';
import { AgentLoadService } from './agent-load.service.js';
import { AgentRegistryService } from './agent-registry.service.js';
import { AgentRoomSignal } from './agent-room-signal.js';
import { AgentsHttpController } from './agents.http.controller.js';

@Module({
  controllers: [AgentAnnouncementsMessageController, AgentsHttpController],
  providers: [AgentRegistryService, AgentLoadService, AgentGauges, AgentRoomSignal],
  exports: [AgentRegistryService, AgentLoadService, AgentRoomSignal],
})
export class RegistryModule {}
