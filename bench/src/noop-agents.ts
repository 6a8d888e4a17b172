import type { NatsConnection } from '@nats-io/transport-node';
import { Agent } from '@orchestrator/agent-sdk';

/** What each step of create_blog_post must return for the next step's input to resolve. */
const RESULTS: Record<string, [string, Record<string, unknown>]> = {
  llm_agent: ['generate_content', { title: 'T', content: 'C', word_count: 1 }],
  enhancement_agent: ['enhance_content', { title: 'T', content: 'C', changes: [] }],
  examination_agent: ['review_content', { approved: true, score: 100, findings: [] }],
  drafting_agent: ['export_document', { title: 'T', documents: { markdown: 'm', html: 'h' } }],
  communication_agent: ['publish_content', { location: '/dev/null', url: 'file:///dev/null', markdown_location: '/dev/null', published_at: '', bytes: 0 }],
};

const quiet = { log: () => undefined, warn: () => undefined, error: (m: string) => console.error(m) };

/**
 * The five agents of create_blog_post answering at once (or, with `hold`, only when released),
 * with room for any number of sub-tasks.
 */
export class NoopAgents {
  private readonly agents: Agent[];
  private readonly held: (() => void)[] = [];
  private holding: boolean;

  constructor(connection: NatsConnection, hold = false) {
    this.holding = hold;
    this.agents = Object.entries(RESULTS).map(([name, [taskType, result]]) =>
      new Agent({ name, agentType: 'bench', connection, maxConcurrency: 1_000_000, heartbeatIntervalMs: 1_000, logger: quiet }).handle(taskType, () =>
        this.holding ? new Promise((resolve) => this.held.push(() => resolve(result))) : Promise.resolve(result),
      ),
    );
  }

  get heldCount(): number {
    return this.held.length;
  }

  async start(): Promise<void> {
    await Promise.all(this.agents.map((agent) => agent.start()));
  }

  release(): void {
    this.holding = false;
    for (const answer of this.held.splice(0)) answer();
  }

  async stop(): Promise<void> {
    this.release();
    await Promise.all(this.agents.map((agent) => agent.stop()));
  }
}
