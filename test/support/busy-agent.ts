import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AGENT_HEARTBEAT_SUBJECT, agentTaskSubject } from '@orchestrator/contracts';
import { testEnv } from './test-env.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface BusyAgentOptions {
  name: string;
  capabilities: string[];
  /** The capacity it announces. */
  maxConcurrency: number;
  /** How long each sub-task takes. */
  delayMs: number;
  heartbeatMs?: number;
}

/** A sub-task as the agent received it. */
export interface Receipt {
  taskId: string;
  taskType: string;
  payload: Record<string, unknown>;
  at: number;
}

/**
 * A plain NATS agent, as an agent in any language would be written: it announces its capacity on
 * heartbeats, takes whatever it is sent (it does not refuse work past its capacity: it counts it),
 * answers each sub-task on its reply subject after `delayMs`, and records what it received and the
 * most sub-tasks it held at once.
 */
export class BusyAgent {
  readonly receipts: Receipt[] = [];
  held = 0;
  maxHeld = 0;
  private connection: NatsConnection | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly instance = `${Math.random().toString(36).slice(2)}`;

  constructor(readonly options: BusyAgentOptions) {}

  async start(): Promise<this> {
    const nc = await connect({ servers: testEnv().natsUrl, name: this.options.name });
    this.connection = nc;
    nc.subscribe(agentTaskSubject(this.options.name), {
      queue: this.options.name,
      callback: (_error, msg) => {
        const request = JSON.parse(decoder.decode(msg.data)) as { task_id: string; task_type: string; payload: Record<string, unknown> };
        this.receipts.push({ taskId: request.task_id, taskType: request.task_type, payload: request.payload, at: Date.now() });
        this.held += 1;
        this.maxHeld = Math.max(this.maxHeld, this.held);
        void sleep(this.options.delayMs).then(() => {
          this.held -= 1;
          const answer = { task_id: request.task_id, status: 'COMPLETED', success: true, result: { ...request.payload, by: this.options.name }, error: null, completed_at: Date.now() / 1000 };
          if (!nc.isClosed()) msg.respond(encoder.encode(JSON.stringify(answer)));
        });
      },
    });
    this.announce();
    this.heartbeat = setInterval(() => this.announce(), this.options.heartbeatMs ?? 500);
    await nc.flush();
    return this;
  }

  private announce(): void {
    const { name, capabilities, maxConcurrency } = this.options;
    const announcement = {
      name,
      instance_id: this.instance,
      agent_type: 'test',
      capabilities,
      load: { in_flight: this.held, max_concurrency: maxConcurrency },
      ts: Date.now() / 1000,
    };
    this.connection?.publish(AGENT_HEARTBEAT_SUBJECT, encoder.encode(JSON.stringify(announcement)));
  }

  /** Stops announcing and receiving; what it holds is never answered. */
  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    if (this.connection && !this.connection.isClosed()) await this.connection.close();
  }
}
