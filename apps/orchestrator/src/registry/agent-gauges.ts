import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service.js';
import { AgentLoadService, type AgentLoadView } from './agent-load.service.js';
import { AgentRegistryService } from './agent-registry.service.js';
import { AgentViews } from './agent-views.service.js';

/** One read of the registry serves the gauges of one scrape. */
const SNAPSHOT_MS = 1_000;

/** Gauges of the live agents' load as the router sees it (GET /agents), read when /metrics is scraped. */
@Injectable()
export class AgentGauges implements OnModuleInit {
  private snapshot: { at: number; agents: Promise<AgentLoadView[] | undefined> } | undefined;

  constructor(
    private readonly metrics: MetricsService,
    private readonly registry: AgentRegistryService,
    private readonly load: AgentLoadService,
    private readonly views: AgentViews,
  ) {}

  onModuleInit(): void {
    const per = (value: (agent: AgentLoadView) => number | null) => async (): Promise<Map<string, number> | undefined> => {
      const agents = await this.agents();
      if (!agents) return undefined;
      const values = new Map<string, number>();
      for (const agent of agents) {
        const measured = value(agent);
        if (measured !== null) values.set(agent.name, measured);
      }
      return values;
    };
    this.metrics.labelledGauge('orchestrator_agent_in_flight', 'Sub-tasks in flight on each live agent, all replicas', 'agent', per((agent) => agent.in_flight));
    this.metrics.labelledGauge('orchestrator_agent_capacity', 'Sum of the max_concurrency of each live agent, where known', 'agent', per((agent) => agent.capacity));
    this.metrics.labelledGauge('orchestrator_agent_load_ratio', 'What the router ranks each live agent by: sub-tasks in flight over capacity', 'agent', per((agent) => agent.load));
    this.metrics.labelledGauge('orchestrator_agent_rate_headroom', 'Sub-tasks each rate-limited live agent takes now before its rate limit is used up (all replicas)', 'agent', async () => {
      const agents = await this.agents();
      return agents ? this.views.headroom(agents).catch(() => undefined) : undefined;
    });
  }

  private agents(): Promise<AgentLoadView[] | undefined> {
    const now = Date.now();
    if (!this.snapshot || now - this.snapshot.at > SNAPSHOT_MS) {
      this.snapshot = { at: now, agents: this.registry.list().then((agents) => this.load.withLoad(agents)).catch(() => undefined) };
    }
    return this.snapshot.agents;
  }
}
