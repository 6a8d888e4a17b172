import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AgentListDoc } from '../http/openapi.js';
import { AgentLoadService, type AgentLoadView } from './agent-load.service.js';
import { AgentRegistryService } from './agent-registry.service.js';

/** `GET /agents`: live agents and their load as the router sees it. */
@ApiTags('agents')
@Controller('agents')
export class AgentsHttpController {
  constructor(
    private readonly registry: AgentRegistryService,
    private readonly load: AgentLoadService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Live agents (heartbeats, static, Consul) with capabilities, capacity and load as the router sees it' })
  @ApiOkResponse({ type: AgentListDoc })
  async list(): Promise<{ items: AgentLoadView[] }> {
    return { items: await this.load.withLoad(await this.registry.list()) };
  }
}
