import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { testEnv } from './test-env.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What the handler of a plain agent answers: a result (COMPLETED) or an error (FAILED), and anything else to put in the answer (`usage`). */
export interface PlainAnswer {
  result?: Record<string, unknown>;
  error?: string;
  extra?: Record<string, unknown>;
}

/** One sub-task as the agent received it. */
export interface Receipt {
  taskId: string;
  payload: Record<string, unknown>;
  at: number;
  /** When its answer went, or null while it is held. */
  answeredAt: number | null;
}

export interface PlainAgentOptions {
  name: string;
  capabilities: string[];
  /** Announced as `load.max_concurrency` (omitted: no capacity is announced). */
  maxConcurrency?: number;
  /** Announced as `rate_limit`. */
  rateLimit?: { limit: number; per: 'second' | 'minute' | 'hour' };
  heartbeatMs?: number;
  /** How to answer each sub-task; by default at once, with its payload. */
  handle?: (payload: Record<string, unknown>, taskId: string, signal: AbortSignal) => Promise<PlainAnswer> | PlainAnswer;
}

/**
 * An agent written as any language would write it: a NATS connection, JSON in and out, no SDK. It
 * subscribes to `agent.<name>.task` in a queue group, announces itself (and its load) on
 * heartbeats, stops a sub-task on `agent.<name>.cancel`, answers on the message's reply subject,
 * and records every receipt.
 */
export class PlainAgent {
  readonly receipts: Receipt[] = [];
  readonly cancels: string[] = [];
  private readonly held = new Map<string, AbortController>();
  private timer: NodeJS.Timeout | undefined;
  private readonly instanceId = `${Math.random().toString(36).slice(2)}`;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly options: PlainAgentOptions,
  ) {}

  static async start(options: PlainAgentOptions): Promise<PlainAgent> {
    const nc = await connect({ servers: testEnv().natsUrl, name: options.name });
    const agent = new PlainAgent(nc, options);
    nc.subscribe(`agent.${options.name}.task`, { queue: options.name, callback: (_error, msg) => void agent.take(msg) });
    nc.subscribe(`agent.${options.name}.cancel`, {
      callback: (_error, msg) => {
        const { task_id: taskId } = JSON.parse(decoder.decode(msg.data)) as { task_id: string };
        agent.cancels.push(taskId);
        agent.held.get(taskId)?.abort();
      },
    });
    agent.announce('platform.events.agent_registered');
    agent.timer = setInterval(() => agent.announce('platform.events.agent_heartbeat'), options.heartbeatMs ?? 500);
    await nc.flush();
    return agent;
  }

  /** Sub-tasks taken and not answered yet. */
  get inFlight(): number {
    return this.held.size;
  }

  private announce(subject: string): void {
    const { name, capabilities, maxConcurrency, rateLimit } = this.options;
    this.nc.publish(
      subject,
      encoder.encode(
        JSON.stringify({
          name,
          instance_id: this.instanceId,
          agent_type: 'test',
          capabilities,
          ...(maxConcurrency === undefined ? {} : { load: { in_flight: Math.min(this.held.size, maxConcurrency), max_concurrency: maxConcurrency } }),
          ...(rateLimit === undefined ? {} : { rate_limit: rateLimit }),
          ts: Date.now() / 1000,
        }),
      ),
    );
  }

  private async take(msg: Msg): Promise<void> {
    const request = JSON.parse(decoder.decode(msg.data)) as { task_id: string; payload: Record<string, unknown> };
    const receipt: Receipt = { taskId: request.task_id, payload: request.payload, at: Date.now(), answeredAt: null };
    this.receipts.push(receipt);
    const controller = new AbortController();
    this.held.set(request.task_id, controller);
    let answer: PlainAnswer;
    try {
      answer = (await this.options.handle?.(request.payload, request.task_id, controller.signal)) ?? { result: request.payload };
    } catch (error) {
      answer = { error: (error as Error).message };
    } finally {
      this.held.delete(request.task_id);
    }
    const status = controller.signal.aborted ? 'CANCELLED' : answer.error === undefined ? 'COMPLETED' : 'FAILED';
    const body = { task_id: request.task_id, status, result: answer.result ?? null, error: answer.error ?? null, ...answer.extra };
    receipt.answeredAt = Date.now();
    if (msg.reply && !this.nc.isClosed()) this.nc.publish(msg.reply, encoder.encode(JSON.stringify(body)));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const controller of this.held.values()) controller.abort();
    if (!this.nc.isClosed()) await this.nc.close();
  }
}

/** Resolves after `ms`, or when `signal` aborts (then throws, as a cancelled handler does). */
export async function hold(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal });
}
