import { Injectable } from '@nestjs/common';
import type { AgentStatusView } from '@orchestrator/contracts';
import { TasksRepository } from '../persistence/tasks.repository.js';
import { AgentLoadService } from './agent-load.service.js';
import { AgentRegistryService, type AgentView } from './agent-registry.service.js';
import { agentBucket, RateBuckets } from './rate-buckets.service.js';

/**
 * The agents as GET /agents shows them: live instances and capabilities, sub-tasks in flight
 * against capacity, the steps waiting for a slot on each, and how much of its rate limit is left.
 */
@Injectable()
export class AgentViews {
  constructor(
    private readonly registry: AgentRegistryService,
    private readonly load: AgentLoadService,
    private readonly rates: RateBuckets,
    private readonly tasks: TasksRepository,
  ) {}

  async list(): Promise<AgentStatusView[]> {
    const agents = await this.load.withLoad(await this.registry.list());
    const [waiting, headroom] = await Promise.all([this.tasks.countWaiting(), this.headroom(agents)]);
    return agents.map((agent) => ({ ...agent, rate_headroom: headroom.get(agent.name) ?? null, waiting: waitingFor(agent, waiting) }));
  }

  /** How many more sub-tasks each rate-limited agent takes now. */
  async headroom(agents: readonly AgentView[]): Promise<Map<string, number>> {
    const limited = agents.flatMap((agent) => (agent.rate_limit ? [{ name: agent.name, bucket: agentBucket(agent.name, agent.rate_limit) }] : []));
    const left = await this.rates.headroom(limited.map((one) => one.bucket));
    return new Map(limited.map((one, i) => [one.name, left[i] ?? 0]));
  }
}

/**
 * Steps waiting for this agent: those in the lines of named steps it is one of the agents of
 * (`a:<agents>`), and in the lines of the capabilities it offers (`c:<capability>`).
 */
function waitingFor(agent: AgentView, lines: ReadonlyMap<string, number>): number {
  let waiting = 0;
  for (const [line, n] of lines) {
    if (line.startsWith('a:') ? line.slice(2).split(',').includes(agent.name) : line.startsWith('c:') && agent.capabilities.includes(line.slice(2))) waiting += n;
  }
  return waiting;
}
