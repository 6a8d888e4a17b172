import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AgentStatusView } from '@orchestrator/contracts';
import { AgentListDoc } from '../http/openapi.js';
import { AgentViews } from './agent-views.service.js';

/** `GET /agents`: live agents, their load as the router sees it, the steps waiting for them and their rate limits. */
@ApiTags('agents')
@Controller('agents')
export class AgentsHttpController {
  constructor(private readonly agents: AgentViews) {}

  @Get()
  @ApiOperation({ summary: 'Live agents (heartbeats, static, Consul) with capabilities, capacity and load as the router sees it, steps waiting for them, and rate-limit headroom' })
  @ApiOkResponse({ type: AgentListDoc })
  async list(): Promise<{ items: AgentStatusView[] }> {
    return { items: await this.agents.list() };
  }
}
