import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { testEnv } from './test-env.js';

/** One sub-task as the agent received it. */
export interface Receipt {
  /** The sub-task's wire id, `<row>:<attempt>`. */
  subtaskId: string;
  /** The workflow's task_id (the `Orchestrator-Root-Task-Id` header). */
  rootTaskId: string;
  payload: Record<string, unknown>;
  at: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * An agent written with nothing but a NATS client, as one in any language would be: takes
 * `agent.<name>.task` in a queue group, answers on the reply subject after the payload's
 * `delay_ms`, and records every sub-task it received and every cancel it was sent.
 */
export class EchoAgent {
  readonly receipts: Receipt[] = [];
  readonly cancels: string[] = [];

  private constructor(
    readonly name: string,
    private readonly nc: NatsConnection,
  ) {}

  static async start(name: string): Promise<EchoAgent> {
    const agent = new EchoAgent(name, await connect({ servers: testEnv().natsUrl, name: `e2e-plain-${name}` }));
    agent.serve();
    await agent.nc.flush();
    return agent;
  }

  /** The receipts of one workflow. */
  of(rootTaskId: string): Receipt[] {
    return this.receipts.filter((receipt) => receipt.rootTaskId === rootTaskId);
  }

  reset(): void {
    this.receipts.length = 0;
    this.cancels.length = 0;
  }

  async stop(): Promise<void> {
    await this.nc.drain();
  }

  private serve(): void {
    const tasks = this.nc.subscribe(`agent.${this.name}.task`, { queue: this.name });
    void (async () => {
      for await (const msg of tasks) {
        const request = JSON.parse(decoder.decode(msg.data)) as { task_id: string; payload: Record<string, unknown> };
        this.receipts.push({ subtaskId: request.task_id, rootTaskId: msg.headers?.get('Orchestrator-Root-Task-Id') ?? '', payload: request.payload, at: Date.now() });
        const delay = request.payload['delay_ms'];
        void (async () => {
          if (typeof delay === 'number') await sleep(delay);
          const answer = { task_id: request.task_id, status: 'COMPLETED', success: true, result: { ...request.payload, done: true }, error: null, completed_at: Date.now() / 1000 };
          if (!this.nc.isClosed()) msg.respond(encoder.encode(JSON.stringify(answer)));
        })();
      }
    })();
    const cancels = this.nc.subscribe(`agent.${this.name}.cancel`);
    void (async () => {
      for await (const msg of cancels) this.cancels.push((JSON.parse(decoder.decode(msg.data)) as { task_id: string }).task_id);
    })();
  }
}

/**
 * The plain agent `name` for the enclosing describe block: started before its tests (after the
 * hooks registered before this call, the test stack's), its records cleared before each, stopped
 * after. Returns it, once started.
 */
export function useEchoAgent(name: string): () => EchoAgent {
  let agent: EchoAgent | undefined;
  beforeAll(async () => {
    agent = await EchoAgent.start(name);
  });
  beforeEach(() => agent?.reset());
  afterAll(() => agent?.stop());
  return () => {
    if (!agent) throw new Error(`the agent ${name} is not started`);
    return agent;
  };
}
