import { Controller, Get } from '@nestjs/common';
import type { AgentStatusView } from '@orchestrator/contracts';
import { AgentLoadService, loadRatio } from './agent-load.service.js';
import { AgentRegistryService } from './agent-registry.service.js';

/** `GET /agents`: live agents and their load as the router sees it. */
@Controller('agents')
export class AgentsHttpController {
  constructor(
    private readonly registry: AgentRegistryService,
    private readonly load: AgentLoadService,
  ) {}

  @Get()
  async list(): Promise<{ items: AgentStatusView[] }> {
    const agents = await this.registry.list();
    const counts = await this.load.inFlight(agents.map((agent) => agent.name));
    return {
      items: agents.map((agent) => {
        const inFlight = counts.get(agent.name) ?? 0;
        const load = agent.capacity ? loadRatio(inFlight, agent.reported_in_flight, agent.capacity) : null;
        return { ...agent, in_flight: inFlight, load };
      }),
    };
  }
}
