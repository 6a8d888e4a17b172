import { Module, type OnModuleInit } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module.js';
import { AgentRegistryService } from '../registry/agent-registry.service.js';
import { ConsulSettingsService } from './consul-settings.service.js';
import { ConsulService } from './consul.service.js';

@Module({
  imports: [RegistryModule],
  providers: [ConsulService, ConsulSettingsService],
  exports: [ConsulService],
})
export class ConsulModule implements OnModuleInit {
  constructor(
    private readonly consul: ConsulService,
    private readonly registry: AgentRegistryService,
  ) {}

  onModuleInit(): void {
    if (this.consul.enabled) this.registry.addSource({ agents: () => this.consul.agents() });
  }
}
