import type { NatsConnection } from '@nats-io/transport-node';
import { Agent } from '@orchestrator/agent-sdk';
import { BENCH_AGENT_CONCURRENCY, BLOG_POST_AGENTS } from './blog-post-agents.js';

const quiet = { log: () => undefined, warn: () => undefined, error: (m: string) => console.error(m) };

/**
 * The five agents of create_blog_post holding every sub-task until released (for the in-flight
 * run: how the orchestrator fares with many workflows waiting on their agents).
 */
export class HoldingAgents {
  private readonly agents: Agent[];
  private readonly held: (() => void)[] = [];
  private holding = true;

  constructor(connection: NatsConnection) {
    this.agents = BLOG_POST_AGENTS.map(({ name, taskType, result }) =>
      new Agent({ name, agentType: 'bench', connection, maxConcurrency: BENCH_AGENT_CONCURRENCY, heartbeatIntervalMs: 1_000, logger: quiet }).handle(
        taskType,
        // Once released, a sub-task that comes while the agents stop is answered at once: held, it
        // would keep the agent's stop waiting for it.
        () => (this.holding ? new Promise((resolve) => this.held.push(() => resolve(result))) : result),
      ),
    );
  }

  get heldCount(): number {
    return this.held.length;
  }

  async start(): Promise<void> {
    await Promise.all(this.agents.map((agent) => agent.start()));
  }

  async stop(): Promise<void> {
    this.holding = false;
    for (const answer of this.held.splice(0)) answer();
    await Promise.all(this.agents.map((agent) => agent.stop()));
  }
}
