import { Controller, Get } from '@nestjs/common';
import { AgentRegistryService, type AgentView } from './agent-registry.service.js';

@Controller('agents')
export class AgentsHttpController {
  constructor(private readonly registry: AgentRegistryService) {}

  @Get()
  async list(): Promise<{ items: AgentView[] }> {
    return { items: await this.registry.list() };
  }
}
