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
  agentAnnouncementSubject,
  agentCancelSubject,
  agentProgressSubject,
  agentResponseSubject,
  agentTaskSubject,
  assertAgentName,
  failedResponse,
  isPlainObject,
  nowSeconds,
  type AgentAnnouncement,
  type AnnouncementKind,
  type RateLimit,
  type ProgressReport,
} from '@orchestrator/contracts';
import { consoleLogger, type AgentLogger } from './agent-logger.js';
import { NO_HEADERS } from './message-headers.js';
import { TaskRunner, type AgentStats, type Answer, type TaskHandler } from './task-runner.js';

export interface AgentOptions {
  name: string;
  agentType: string;
  /** Where to connect when no `connection` is given; default nats://127.0.0.1:4222. */
  natsUrl?: string;
  /** A connection to share; the agent then neither opens nor closes one. */
  connection?: NatsConnection;
  /** The NATS user and password of the connection the agent opens: under deploy/nats/permissions.conf, the agent's name and its password. */
  user?: string;
  pass?: string;
  /** The prefix of the inboxes of the connection the agent opens (requests it makes itself are answered there); default `_INBOX`. */
  inboxPrefix?: string;
  /** Handlers running at once; more tasks wait in arrival order. Default 8. */
  maxConcurrency?: number;
  heartbeatIntervalMs?: number;
  /** `reply` (default): to the message's reply subject when it has one; `publish`: always on agent.<name>.response. */
  answerBy?: 'reply' | 'publish';
  instanceId?: string;
  logger?: AgentLogger;
  /** Answered task ids remembered to recognise repeated deliveries. Default 10,000. */
  answerCacheSize?: number;
  /** Announced as `rate_limit`: the most sub-tasks the orchestrators send it per window (its provider's cap, say). */
  rateLimit?: RateLimit;
}

const encoder = new TextEncoder();

/**
 * An agent of the platform: takes sub-tasks on `agent.<name>.task` (one queue group per name),
 * runs the handler of their task_type, answers with a TaskResponse, announces itself and sends
 * heartbeats with its load.
 *
 * Delivery is at least once: a task id seen again gets the answer already given, and a repeat of
 * one still running is ignored.
 */
export class Agent {
  readonly name: string;
  readonly agentType: string;
  readonly instanceId: string;
  private readonly runner: TaskRunner;
  private readonly logger: AgentLogger;
  private nc: NatsConnection | undefined;
  private tasks: Subscription | undefined;
  private cancels: Subscription | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Tasks taken and not yet answered; `drained` is called when the last one is. */
  private working = 0;
  private drained: (() => void) | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: AgentOptions) {
    this.name = assertAgentName(options.name);
    this.agentType = options.agentType;
    this.instanceId = options.instanceId ?? randomUUID();
    this.logger = options.logger ?? consoleLogger(this.name);
    this.runner = new TaskRunner({
      agentName: this.name,
      maxConcurrency: options.maxConcurrency ?? 8,
      logger: this.logger,
      ...(options.answerCacheSize !== undefined ? { answerCacheSize: options.answerCacheSize } : {}),
      onProgress: (report) => this.publishProgress(report),
    });
  }

  /** Registers the handler of a task_type; the task types handled are the agent's capabilities. */
  handle(taskType: string, handler: TaskHandler): this {
    this.runner.handle(taskType, handler);
    return this;
  }

  get capabilities(): string[] {
    return this.runner.capabilities;
  }

  get stats(): Readonly<AgentStats> {
    return this.runner.stats;
  }

  get started(): boolean {
    return this.nc !== undefined;
  }

  /**
   * Subscribes, announces the agent on its own subject (`platform.events.agent.<name>.registered`,
   * which a permissions file grants to this agent alone) and starts heartbeats (`…heartbeat`).
   */
  async start(): Promise<void> {
    if (this.nc) throw new Error(`agent ${this.name} is already started`);
    if (this.capabilities.length === 0) this.logger.warn('starting with no handler registered');
    const nc =
      this.options.connection ??
      (await connect({
        servers: (this.options.natsUrl ?? 'nats://127.0.0.1:4222').split(','),
        name: `${this.name}:${this.instanceId}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        ...(this.options.user !== undefined ? { user: this.options.user, pass: this.options.pass ?? '' } : {}),
        ...(this.options.inboxPrefix !== undefined ? { inboxPrefix: this.options.inboxPrefix } : {}),
      }));
    this.nc = nc;
    this.stopping = undefined;
    this.tasks = nc.subscribe(agentTaskSubject(this.name), {
      queue: this.name,
      callback: (err, msg) => (err ? this.logger.error(`task subscription: ${err.message}`) : void this.onTask(msg)),
    });
    this.cancels = nc.subscribe(agentCancelSubject(this.name), {
      callback: (err, msg) => (err ? this.logger.error(`cancel subscription: ${err.message}`) : this.onCancel(msg)),
    });
    if (!this.options.connection) this.watchStatus(nc);
    await nc.flush();
    this.announce('registered');
    this.heartbeat = setInterval(() => this.announce('heartbeat'), this.options.heartbeatIntervalMs ?? 5_000);
    this.heartbeat.unref();
    this.logger.log(`started (instance ${this.instanceId}, task types: ${this.capabilities.join(', ') || 'none'})`);
  }

  /**
   * Stops taking tasks, lets the ones already taken finish and answer (they can still be
   * cancelled meanwhile), then closes the agent's own connection or flushes a shared one.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const nc = this.nc;
    if (!nc) return;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await this.tasks?.drain().catch(() => undefined);
    while (this.working > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.drained = undefined;
    this.cancels?.unsubscribe();
    this.tasks = this.cancels = undefined;
    if (!nc.isClosed()) {
      try {
        if (this.options.connection) await nc.flush();
        else await nc.drain();
      } catch (error) {
        this.logger.warn(`closing the connection: ${errorText(error)}`);
      }
    }
    this.nc = undefined;
    this.logger.log('stopped');
  }

  /** Never rejects: whatever goes wrong is logged. */
  private async onTask(msg: Msg): Promise<void> {
    this.working += 1;
    try {
      const answer = await this.runner.run(msg.data, headerRecord(msg));
      if (answer) this.send(msg, answer);
    } catch (error) {
      this.logger.error(`task message on ${msg.subject}: ${errorText(error)}`);
    } finally {
      this.working -= 1;
      if (this.working === 0) this.drained?.();
    }
  }

  private onCancel(msg: Msg): void {
    let body: unknown;
    try {
      body = msg.json();
    } catch {
      this.logger.warn('ignored a cancel message that is not JSON');
      return;
    }
    const taskId = isPlainObject(body) ? body['task_id'] : undefined;
    if (typeof taskId !== 'string' || taskId.length === 0) {
      this.logger.warn('ignored a cancel message without a task_id');
      return;
    }
    const found = this.runner.cancel(taskId);
    if (found !== 'unknown') this.logger.log(`cancelled ${found} task ${taskId}`);
  }

  private send(msg: Msg, answer: Answer): void {
    const nc = this.nc;
    if (!nc || nc.isClosed()) {
      this.logger.warn(`connection closed, answer to task ${answer.response.task_id} not sent`);
      return;
    }
    let data = encoder.encode(answer.body);
    const maxPayload = nc.info?.max_payload;
    if (maxPayload && data.length > maxPayload) {
      const error = `answer of ${data.length} bytes exceeds the server's max_payload of ${maxPayload} bytes`;
      this.logger.error(`task ${answer.response.task_id}: ${error}`);
      data = encoder.encode(JSON.stringify(failedResponse(answer.response.task_id, error)));
    }
    let options: { headers?: MsgHdrs } | undefined;
    for (const key in answer.headers) {
      options ??= { headers: natsHeaders() };
      options.headers?.set(key, answer.headers[key]);
    }
    try {
      if (msg.reply && this.options.answerBy !== 'publish') msg.respond(data, options);
      else nc.publish(agentResponseSubject(this.name), data, options);
    } catch (error) {
      this.logger.error(`answer to task ${answer.response.task_id} not sent: ${errorText(error)}`);
    }
  }

  private publishProgress(report: ProgressReport): void {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    try {
      nc.publish(agentProgressSubject(this.name), encoder.encode(JSON.stringify(report)));
    } catch (error) {
      this.logger.warn(`progress of task ${report.task_id} not sent: ${errorText(error)}`);
    }
  }

  private announce(kind: AnnouncementKind): void {
    const subject = agentAnnouncementSubject(this.name, kind);
    const nc = this.nc;
    if (!nc || nc.isClosed() || nc.isDraining()) return;
    const announcement: AgentAnnouncement = {
      name: this.name,
      instance_id: this.instanceId,
      agent_type: this.agentType,
      capabilities: this.capabilities,
      load: { in_flight: this.stats.held, max_concurrency: this.runner.maxConcurrency },
      ...(this.options.rateLimit ? { rate_limit: this.options.rateLimit } : {}),
      ts: nowSeconds(),
    };
    try {
      nc.publish(subject, encoder.encode(JSON.stringify(announcement)));
    } catch (error) {
      this.logger.warn(`announcement on ${subject} not sent: ${errorText(error)}`);
    }
  }

  private watchStatus(nc: NatsConnection): void {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') this.logger.warn('disconnected from NATS, reconnecting');
        else if (status.type === 'reconnect') {
          this.logger.log('reconnected to NATS');
          this.announce('registered');
        }
      }
    })().catch(() => undefined);
  }
}

/** The first value of each header of a message (none when it has none or they cannot be read). */
function headerRecord(msg: Msg): Readonly<Record<string, string>> {
  try {
    const hdrs = msg.headers;
    if (!hdrs) return NO_HEADERS;
    const out: Record<string, string> = {};
    for (const [key, values] of hdrs) if (values[0] !== undefined) out[key] = values[0];
    return out;
  } catch {
    // unreadable headers are treated as none: the body is what matters
    return NO_HEADERS;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
