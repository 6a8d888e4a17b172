import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { AgentGauges } from './agent-gauges.js';
import { AgentAnnouncementsMessageController } from './agent-announcements.message.controller.js';
import { AgentLoadService } from './agent-load.service.js';
import { AgentRegistryService } from './agent-registry.service.js';
import { AgentRoomSignal } from './agent-room-signal.js';
import { AgentsHttpController } from './agents.http.controller.js';
import { AgentViews } from './agent-views.service.js';
import { RateBuckets } from './rate-buckets.service.js';

@Module({
  imports: [PersistenceModule],
  controllers: [AgentAnnouncementsMessageController, AgentsHttpController],
  providers: [AgentRegistryService, AgentLoadService, AgentGauges, AgentRoomSignal, RateBuckets, AgentViews],
  exports: [AgentRegistryService, AgentLoadService, AgentRoomSignal, RateBuckets],
})
export class RegistryModule {}
