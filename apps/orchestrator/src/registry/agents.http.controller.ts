import { Controller, Get } from '@nestjs/common';
import { AgentLoadService, type AgentLoadView } from './agent-load.service.js';
import { AgentRegistryService } from './agent-registry.service.js';

/** `GET /agents`: live agents and their load as the router sees it. */
@Controller('agents')
export class AgentsHttpController {
  constructor(
    private readonly registry: AgentRegistryService,
    private readonly load: AgentLoadService,
  ) {}

  @Get()
  async list(): Promise<{ items: AgentLoadView[] }> {
    return { items: await this.load.withLoad(await this.registry.list()) };
  }
}
