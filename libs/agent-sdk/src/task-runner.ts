import {
  completedResponse,
  failedResponse,
  isPlainObject,
  TASK_TYPE_PATTERN,
  MAX_PROGRESS_MESSAGE_CHARS,
  parseUsage,
  TaskStatus,
  type ProgressReport,
  type TaskResponse,
  type Usage,
} from '@orchestrator/contracts';
import type { AgentLogger } from './agent-logger.js';
import { AnswerCache } from './answer-cache.js';
import { ConcurrencyLimiter, JobDroppedError } from './concurrency-limiter.js';
import { NO_HEADERS, readHeaders } from './message-headers.js';
import { readTaskRequest } from './wire-request.js';

export interface TaskContext {
  taskId: string;
  taskType: string;
  /** The orchestrator's attempt number of this sub-task, when it says so in a header. */
  attempt?: number;
  requesterId: string | undefined;
  /** Aborted when the sub-task is cancelled. */
  signal: AbortSignal;
  /** Trace headers of the incoming message (`traceparent`, `tracestate`); they go back on the answer. */
  headers: Readonly<Record<string, string>>;
  /**
   * Reports how far the work is (`fraction` from 0 to 1, an optional message of at most 500
   * characters) on `agent.<name>.progress`; the orchestrator shows the latest on the step and in
   * the workflow's history (at most one report a second is kept). Ignored once the task is answered.
   */
  progress(fraction: number, message?: string): void;
}

/**
 * Does the work of one task_type: returns the result (a plain object), or `withUsage(result, usage)`
 * to say what the work cost; throws to fail the task.
 */
export type TaskHandler = (payload: Record<string, unknown>, ctx: TaskContext) => Promise<object> | object;

/** A handler's result with what the work cost: sent as the answer's `usage` (tokens, input_tokens, output_tokens, cost). */
export class ResultWithUsage {
  constructor(
    readonly result: object,
    readonly usage: Usage,
  ) {}
}

/** What a handler returns to report what its work cost beside its result: `return withUsage({ summary }, { tokens: 812, cost: 0.004 })`. */
export function withUsage(result: object, usage: Usage): ResultWithUsage {
  return new ResultWithUsage(result, usage);
}

export interface AgentStats {
  received: number;
  completed: number;
  /** FAILED answers: bad messages, unknown task types and handlers that threw. */
  failed: number;
  cancelled: number;
  /** Repeated deliveries of a task id already answered (answered again) or still held (ignored). */
  duplicates: number;
  /** Handlers running now. */
  inFlight: number;
  maxInFlightSeen: number;
  /** Tasks taken and not yet answered (running or waiting for a free handler). */
  held: number;
  maxHeldSeen: number;
}

/** What to send back: the response, its JSON, and the headers to put on the message. */
export interface Answer {
  response: TaskResponse;
  body: string;
  headers: Readonly<Record<string, string>>;
}

export interface TaskRunnerOptions {
  agentName: string;
  maxConcurrency: number;
  logger: AgentLogger;
  /** How many answered task ids are remembered to recognise repeated deliveries. */
  answerCacheSize?: number;
  /** Sends a progress report (the agent publishes it on `agent.<name>.progress`). */
  onProgress?: (report: ProgressReport) => void;
}

export { ATTEMPT_HEADER } from './message-headers.js';
const MAX_ERROR_LENGTH = 2_000;
const decoder = new TextDecoder();

/**
 * The transport-free core of an agent: turns one incoming message into the answer to send.
 * Runs at most `maxConcurrency` handlers at once (the rest wait in arrival order), answers a
 * repeated task id with the answer already given, and cancels running or waiting tasks.
 */
export class TaskRunner {
  readonly stats: AgentStats = {
    received: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    duplicates: 0,
    inFlight: 0,
    maxInFlightSeen: 0,
    held: 0,
    maxHeldSeen: 0,
  };
  private readonly handlers = new Map<string, TaskHandler>();
  private readonly answers: AnswerCache<Answer>;
  /** Cancels that came before their task (remembered so the task is not run when it arrives). */
  private readonly cancelledEarly: AnswerCache<true>;
  private readonly held = new Map<string, HeldTask>();
  private readonly limiter: ConcurrencyLimiter;

  constructor(private readonly options: TaskRunnerOptions) {
    this.limiter = new ConcurrencyLimiter(options.maxConcurrency);
    this.answers = new AnswerCache(options.answerCacheSize ?? 10_000);
    this.cancelledEarly = new AnswerCache(1_000);
  }

  get maxConcurrency(): number {
    return this.limiter.limit;
  }

  get capabilities(): string[] {
    return [...this.handlers.keys()];
  }

  handle(taskType: string, handler: TaskHandler): void {
    if (!TASK_TYPE_PATTERN.test(taskType)) throw new Error(`task_type ${JSON.stringify(taskType)} does not match ${TASK_TYPE_PATTERN.source}`);
    this.handlers.set(taskType, handler);
  }

  /** The answer to one message, or undefined when it repeats a task that is still being worked on. */
  async run(data: Uint8Array | string, incomingHeaders: Readonly<Record<string, string>> = NO_HEADERS): Promise<Answer | undefined> {
    this.stats.received += 1;
    const { trace: headers, attempt } = readHeaders(incomingHeaders);
    let body: unknown;
    try {
      body = JSON.parse(typeof data === 'string' ? data : decoder.decode(data));
    } catch {
      return this.reject('', 'message: is not valid JSON', headers);
    }
    const request = readTaskRequest(body);
    if (!request.ok) {
      const taskId = isPlainObject(body) && typeof body['task_id'] === 'string' ? body['task_id'].slice(0, 256) : '';
      return this.reject(taskId, request.error, headers);
    }
    const { task_id: taskId, task_type: taskType, payload, requester_id: requesterId } = request.value;

    const earlier = this.answers.get(taskId);
    if (earlier || this.held.has(taskId)) {
      this.stats.duplicates += 1;
      return earlier;
    }
    const handler = this.handlers.get(taskType);
    if (!handler) return this.reject(taskId, `agent ${this.options.agentName} has no handler for task_type ${taskType}`, headers);
    if (this.cancelledEarly.delete(taskId)) {
      return this.finish(taskId, failedResponse(taskId, 'cancelled before it started', null, TaskStatus.Cancelled), headers);
    }

    const held = new HeldTask();
    this.held.set(taskId, held);
    this.stats.held += 1;
    if (this.stats.held > this.stats.maxHeldSeen) this.stats.maxHeldSeen = this.stats.held;
    const onProgress = this.options.onProgress;
    const ctx: TaskContext = {
      taskId,
      taskType,
      requesterId,
      // Made when the handler asks for it: most never do, and an AbortController costs more than the rest of a task.
      get signal() {
        return held.signal;
      },
      headers,
      progress: (fraction: number, message?: string): void => {
        if (typeof fraction !== 'number' || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
          throw new RangeError(`progress: fraction must be a number from 0 to 1, got ${String(fraction)}`);
        }
        if (message !== undefined && (typeof message !== 'string' || message.length > MAX_PROGRESS_MESSAGE_CHARS)) {
          throw new RangeError(`progress: message must be a string of at most ${MAX_PROGRESS_MESSAGE_CHARS} characters`);
        }
        if (held.answered) return;
        onProgress?.({ task_id: taskId, fraction, ...(message !== undefined ? { message } : {}) });
      },
    };
    if (attempt !== undefined) ctx.attempt = attempt;
    let response: TaskResponse;
    try {
      response = this.resultResponse(taskId, taskType, await this.limiter.run(taskId, () => this.invoke(handler, payload, ctx)));
    } catch (error) {
      if (error instanceof JobDroppedError) {
        response = failedResponse(taskId, 'cancelled before it started', null, TaskStatus.Cancelled);
      } else if (held.cancelled) {
        response = failedResponse(taskId, `cancelled while running: ${errorMessage(error)}`, null, TaskStatus.Cancelled);
      } else {
        response = failedResponse(taskId, errorMessage(error));
        this.options.logger.warn(`task ${taskId} (${taskType}) failed: ${response.error}`);
      }
    } finally {
      held.answered = true;
      this.held.delete(taskId);
      this.stats.held -= 1;
    }
    return this.finish(taskId, response, headers);
  }

  /**
   * Cancels a task: a running one has its signal aborted (its answer follows when the handler
   * returns), a waiting one is answered CANCELLED without running, an unknown one is remembered.
   */
  cancel(taskId: string): 'running' | 'waiting' | 'unknown' {
    const held = this.held.get(taskId);
    if (!held) {
      if (!this.answers.has(taskId)) this.cancelledEarly.set(taskId, true);
      return 'unknown';
    }
    if (this.limiter.drop(taskId)) return 'waiting';
    held.cancel();
    return 'running';
  }

  private async invoke(handler: TaskHandler, payload: Record<string, unknown>, ctx: TaskContext): Promise<unknown> {
    this.stats.inFlight += 1;
    if (this.stats.inFlight > this.stats.maxInFlightSeen) this.stats.maxInFlightSeen = this.stats.inFlight;
    try {
      return await handler(payload, ctx);
    } finally {
      this.stats.inFlight -= 1;
    }
  }

  private resultResponse(taskId: string, taskType: string, returned: unknown): TaskResponse {
    let result = returned;
    let usage: Usage | undefined;
    if (returned instanceof ResultWithUsage) {
      const parsed = parseUsage(returned.usage);
      if (!parsed.ok) {
        this.options.logger.error(`handler of ${taskType} returned a usage that is not one (task ${taskId}): ${parsed.error}`);
        return failedResponse(taskId, `handler of ${taskType} returned ${parsed.error}`);
      }
      result = returned.result;
      usage = parsed.value;
    }
    if (!isPlainObjectValue(result)) {
      const what = result === null ? 'null' : Array.isArray(result) ? 'an array' : typeof result === 'object' ? 'a class instance' : typeof result;
      this.options.logger.error(`handler of ${taskType} returned ${what}, not a plain object (task ${taskId})`);
      return failedResponse(taskId, `handler of ${taskType} returned ${what}, not a plain object`);
    }
    return { ...completedResponse(taskId, result), ...(usage ? { usage } : {}) };
  }

  private reject(taskId: string, error: string, headers: Record<string, string>): Answer {
    this.options.logger.warn(`rejected a message${taskId ? ` for task ${taskId}` : ''}: ${error}`);
    return this.encode(failedResponse(taskId, truncate(error)), headers);
  }

  private finish(taskId: string, response: TaskResponse, headers: Record<string, string>): Answer {
    const answer = this.encode(response, headers);
    this.answers.set(taskId, answer);
    return answer;
  }

  private encode(response: TaskResponse, headers: Record<string, string>): Answer {
    let answer: Answer;
    try {
      answer = { response, body: JSON.stringify(response), headers };
    } catch (error) {
      const failed = failedResponse(response.task_id, `result is not JSON: ${errorMessage(error)}`);
      answer = { response: failed, body: JSON.stringify(failed), headers };
    }
    this.count(answer.response.status);
    return answer;
  }

  private count(status: TaskStatus): void {
    switch (status) {
      case TaskStatus.Completed:
        this.stats.completed += 1;
        break;
      case TaskStatus.Cancelled:
        this.stats.cancelled += 1;
        break;
      case TaskStatus.Failed:
      case TaskStatus.Pending:
      case TaskStatus.Queued:
      case TaskStatus.Running:
      case TaskStatus.Waiting:
        this.stats.failed += 1;
        break;
    }
  }
}

function isPlainObjectValue(value: unknown): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A task taken and not yet answered: whether it was cancelled, and the signal its handler may watch. */
class HeldTask {
  answered = false;
  cancelled = false;
  private controller: AbortController | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.cancelled) this.controller.abort();
    }
    return this.controller.signal;
  }

  cancel(): void {
    this.cancelled = true;
    this.controller?.abort();
  }
}

function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message || error.name : String(error);
  return truncate(message || 'unknown error');
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}
