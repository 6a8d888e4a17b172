import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { AGENT_HEARTBEAT_SUBJECT, AGENT_REGISTERED_SUBJECT, agentTaskSubject, TaskStatus, type TaskResponse } from '@orchestrator/contracts';
import { waitFor } from './orchestrator-process.js';
import { testEnv } from './test-env.js';

/** One sub-task message the agent got. */
export interface Received {
  taskId: string;
  payload: Record<string, unknown>;
  at: number;
}

export interface CountingAgentOptions {
  name: string;
  /** Announced as its max_concurrency with heartbeats every second; without it the agent never announces itself. */
  capacity?: number;
  delayMs?: number;
  /** The result of a sub-task; throwing answers FAILED with the message. */
  answer?: (payload: Record<string, unknown>, taskId: string) => Record<string, unknown> | Promise<Record<string, unknown>>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * An agent on a plain NATS client, as any language would write one, that counts what the
 * orchestrator sends it: every sub-task message (duplicates included), and how many it had in
 * hand at once (it takes all it gets, whatever its announced capacity: the orchestrator must keep
 * to it). Answers on the message's reply subject after `delayMs`.
 */
export class CountingAgent {
  readonly received: Received[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly options: CountingAgentOptions,
  ) {}

  static async start(options: CountingAgentOptions): Promise<CountingAgent> {
    const nc = await connect({ servers: testEnv().natsUrl, name: `counting-${options.name}` });
    const agent = new CountingAgent(nc, options);
    nc.subscribe(agentTaskSubject(options.name), { queue: options.name, callback: (error, msg) => void (error ? undefined : agent.take(msg)) });
    if (options.capacity !== undefined) {
      agent.announce(AGENT_REGISTERED_SUBJECT);
      agent.timer = setInterval(() => agent.announce(AGENT_HEARTBEAT_SUBJECT), 1_000);
    }
    await nc.flush();
    return agent;
  }

  /** The distinct sub-task ids received. */
  get taskIds(): Set<string> {
    return new Set(this.received.map((one) => one.taskId));
  }

  /** Waits until `count` messages have come. */
  waitForCount(count: number, timeoutMs = 30_000): Promise<Received[]> {
    return waitFor(`${count} sub-tasks at ${this.options.name}`, () => (this.received.length >= count ? this.received : undefined), timeoutMs, 20);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.nc.drain();
  }

  private announce(subject: string): void {
    const { name, capacity = 1 } = this.options;
    const announcement = {
      name,
      instance_id: `${name}-1`,
      agent_type: 'test',
      capabilities: [],
      load: { in_flight: 0, max_concurrency: capacity },
      ts: Date.now() / 1000,
    };
    this.nc.publish(subject, encoder.encode(JSON.stringify(announcement)));
  }

  private async take(msg: Msg): Promise<void> {
    const request = JSON.parse(decoder.decode(msg.data)) as { task_id: string; payload?: Record<string, unknown> };
    const payload = request.payload ?? {};
    this.received.push({ taskId: request.task_id, payload, at: Date.now() });
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let response: TaskResponse;
    try {
      if (this.options.delayMs) await sleep(this.options.delayMs);
      const result = (await this.options.answer?.(payload, request.task_id)) ?? { echo: payload };
      response = { task_id: request.task_id, status: TaskStatus.Completed, success: true, result, error: null, completed_at: Date.now() / 1000 };
    } catch (error) {
      response = { task_id: request.task_id, status: TaskStatus.Failed, success: false, result: null, error: (error as Error).message, completed_at: Date.now() / 1000 };
    } finally {
      this.inFlight -= 1;
    }
    if (msg.reply && !this.nc.isClosed()) msg.respond(encoder.encode(JSON.stringify(response)));
  }
}
