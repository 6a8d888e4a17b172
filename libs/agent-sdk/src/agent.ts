import { randomUUID } from 'node:crypto';
import {
  connect,
  headers as natsHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import {
  AGENT_HEARTBEAT_SUBJECT,
  AGENT_REGISTERED_SUBJECT,
  agentCancelSubject,
  agentResponseSubject,
  agentTaskSubject,
  assertAgentName,
  completedResponse,
  failedResponse,
  isPlainObject,
  nowSeconds,
  TaskStatus,
  validateTaskRequest,
  type AgentAnnouncement,
  type TaskResponse,
} from '@orchestrator/contracts';
import { AnswerCache } from './answer-cache.js';
import { ConcurrencyLimiter, JobDroppedError } from './concurrency-limiter.js';

export interface TaskContext {
  taskId: string;
  taskType: string;
  requesterId: string | undefined;
  /** Aborted when the orchestrator cancels this sub-task. */
  signal: AbortSignal;
  /** Trace headers of the incoming message (`traceparent`, `tracestate`). */
  headers: Readonly<Record<string, string>>;
}

/** Does the work of one task_type: returns the result, or throws to fail the task. */
export type TaskHandler = (payload: Record<string, unknown>, ctx: TaskContext) => Promise<Record<string, unknown>>;

export interface AgentLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface AgentOptions {
  name: string;
  agentType: string;
  natsUrl?: string;
  /** A connection to share; the agent then neither opens nor closes one. */
  connection?: NatsConnection;
  maxConcurrency?: number;
  heartbeatIntervalMs?: number;
  /** `reply`: to the message's reply subject when it has one; `publish`: always on agent.<name>.response. */
  answerBy?: 'reply' | 'publish';
  instanceId?: string;
  logger?: AgentLogger;
}

export interface AgentStats {
  received: number;
  completed: number;
  failed: number;
  duplicates: number;
  /** Handlers running now. */
  inFlight: number;
  maxInFlightSeen: number;
  /** Sub-tasks taken and not yet answered (running or waiting for a free handler). */
  held: number;
  maxHeldSeen: number;
}

const TRACE_HEADERS = ['traceparent', 'tracestate'];
const encoder = new TextEncoder();

/**
 * An agent of the platform: takes sub-tasks on `agent.<name>.task`, runs the handler of their
 * task_type, answers with a TaskResponse, announces itself and sends heartbeats with its load.
 *
 * Delivery is at least once: a task id seen again gets the answer already given, and a repeat of
 * one still running is ignored.
 */
export class Agent {
  readonly name: string;
  readonly instanceId: string;
  readonly stats: AgentStats = { received: 0, completed: 0, failed: 0, duplicates: 0, inFlight: 0, maxInFlightSeen: 0, held: 0, maxHeldSeen: 0 };
  private readonly handlers = new Map<string, TaskHandler>();
  private readonly answers = new AnswerCache<TaskResponse>(10_000);
  private readonly running = new Map<string, AbortController>();
  private readonly limiter: ConcurrencyLimiter;
  private readonly logger: AgentLogger;
  private nc: NatsConnection | undefined;
  private subscriptions: Subscription[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: AgentOptions) {
    this.name = assertAgentName(options.name);
    this.instanceId = options.instanceId ?? randomUUID();
    this.limiter = new ConcurrencyLimiter(options.maxConcurrency ?? 8);
    this.logger = options.logger ?? {
      log: (m) => console.log(`[${this.name}] ${m}`),
      warn: (m) => console.warn(`[${this.name}] ${m}`),
      error: (m) => console.error(`[${this.name}] ${m}`),
    };
  }

  handle(taskType: string, handler: TaskHandler): this {
    this.handlers.set(taskType, handler);
    return this;
  }

  get capabilities(): string[] {
    return [...this.handlers.keys()];
  }

  async start(): Promise<void> {
    this.nc = this.options.connection ?? (await connect({ servers: this.options.natsUrl ?? 'nats://127.0.0.1:4222', name: this.name, maxReconnectAttempts: -1, reconnectTimeWait: 250 }));
    const tasks = this.nc.subscribe(agentTaskSubject(this.name), { queue: this.name, callback: (err, msg) => err ? this.logger.error(err.message) : this.track(this.onTask(msg)) });
    const cancels = this.nc.subscribe(agentCancelSubject(this.name), { callback: (err, msg) => err ? this.logger.error(err.message) : this.onCancel(msg) });
    this.subscriptions = [tasks, cancels];
    await this.nc.flush();
    this.announce(AGENT_REGISTERED_SUBJECT);
    this.heartbeat = setInterval(() => this.announce(AGENT_HEARTBEAT_SUBJECT), this.options.heartbeatIntervalMs ?? 5_000);
    this.heartbeat.unref();
  }

  /** Stops taking work, lets running handlers finish and answer, then disconnects. */
  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const sub of this.subscriptions) sub.unsubscribe();
    this.subscriptions = [];
    await Promise.allSettled([...this.pending]);
    if (this.nc && !this.nc.isClosed()) {
      if (this.options.connection) await this.nc.flush();
      else await this.nc.drain();
    }
    this.nc = undefined;
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private announce(subject: string): void {
    if (!this.nc || this.nc.isClosed()) return;
    const announcement: AgentAnnouncement = {
      name: this.name,
      instance_id: this.instanceId,
      agent_type: this.options.agentType,
      capabilities: this.capabilities,
      load: { in_flight: this.stats.inFlight, max_concurrency: this.limiter.limit },
      ts: nowSeconds(),
    };
    this.nc.publish(subject, encoder.encode(JSON.stringify(announcement)));
  }

  private async onTask(msg: Msg): Promise<void> {
    this.stats.received += 1;
    const headers = traceHeaders(msg.headers);
    let body: unknown;
    try {
      body = msg.json();
    } catch {
      this.answer(msg, failedResponse('', 'message: is not valid JSON'), headers);
      return;
    }
    const request = validateTaskRequest(body);
    if (!request.ok) {
      const taskId = isPlainObject(body) && typeof body['task_id'] === 'string' ? body['task_id'] : '';
      this.answer(msg, failedResponse(taskId, request.error), headers);
      return;
    }
    const { task_id: taskId, task_type: taskType } = request.value;
    const earlier = this.answers.get(taskId);
    if (earlier || this.running.has(taskId)) {
      this.stats.duplicates += 1;
      if (earlier) this.answer(msg, earlier, headers);
      return;
    }
    const handler = this.handlers.get(taskType);
    if (!handler) {
      this.answer(msg, failedResponse(taskId, `agent ${this.name} has no handler for task_type ${taskType}`), headers);
      return;
    }
    const controller = new AbortController();
    this.running.set(taskId, controller);
    this.stats.held += 1;
    this.stats.maxHeldSeen = Math.max(this.stats.maxHeldSeen, this.stats.held);
    let response: TaskResponse;
    try {
      const result = await this.limiter.run(taskId, async () => {
        this.stats.inFlight += 1;
        this.stats.maxInFlightSeen = Math.max(this.stats.maxInFlightSeen, this.stats.inFlight);
        try {
          return await handler(request.value.payload, {
            taskId,
            taskType,
            requesterId: request.value.requester_id,
            signal: controller.signal,
            headers,
          });
        } finally {
          this.stats.inFlight -= 1;
        }
      });
      if (!isPlainObject(result)) throw new Error(`handler for ${taskType} returned ${typeof result}, not an object`);
      response = controller.signal.aborted
        ? failedResponse(taskId, 'cancelled', null, TaskStatus.Cancelled)
        : completedResponse(taskId, result);
      if (!controller.signal.aborted) this.stats.completed += 1;
    } catch (error) {
      const cancelled = controller.signal.aborted || error instanceof JobDroppedError;
      response = failedResponse(taskId, cancelled ? 'cancelled' : errorMessage(error), null, cancelled ? TaskStatus.Cancelled : TaskStatus.Failed);
      this.stats.failed += 1;
    } finally {
      this.running.delete(taskId);
      this.stats.held -= 1;
    }
    this.answers.set(taskId, response);
    this.answer(msg, response, headers);
  }

  private onCancel(msg: Msg): void {
    let taskId: unknown;
    try {
      taskId = msg.json<{ task_id?: unknown }>().task_id;
    } catch {
      return;
    }
    if (typeof taskId !== 'string') return;
    this.running.get(taskId)?.abort();
    this.limiter.drop(taskId);
  }

  private answer(msg: Msg, response: TaskResponse, headers: Record<string, string>): void {
    if (!this.nc || this.nc.isClosed()) return;
    const data = encoder.encode(JSON.stringify(response));
    const h = Object.keys(headers).length > 0 ? natsHeaders() : undefined;
    if (h) for (const [key, value] of Object.entries(headers)) h.set(key, value);
    const options = h ? { headers: h } : {};
    if (msg.reply && this.options.answerBy !== 'publish') msg.respond(data, options);
    else this.nc.publish(agentResponseSubject(this.name), data, options);
  }
}

function traceHeaders(hdrs: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of TRACE_HEADERS) {
    const value = hdrs?.get(key);
    if (value) out[key] = value;
  }
  return out;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
