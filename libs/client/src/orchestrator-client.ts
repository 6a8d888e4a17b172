import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  isTerminalStatus,
  TaskStatus,
  type AgentStatusView,
  type ApprovalListView,
  type CancelTaskReply,
  type ExternalEventReply,
  type HistoryPageView,
  type RerunTaskReply,
  type SignalReply,
  type SubmitTaskReply,
  type TaskDetailView,
  type TaskEvent,
  type TaskListView,
  type TaskResponse,
  type WorkflowSummaryView,
} from '@orchestrator/contracts';
import type { HistoryStream, HistoryStreamOptions } from './history-stream.js';
import { HttpApi, type HistoryPageOptions, type ListTasksFilter } from './http-api.js';
import { NatsApi } from './nats-api.js';
import { OrchestratorError } from './orchestrator-error.js';
import { approvalPayload, type ApprovalOptions, type ApprovalsFilter, type SignalOptions } from './signals.js';
import { SchedulesClient } from './schedules-client.js';
import type { SubmitTaskInput } from './submit-task-input.js';
import { ALL_EVENTS, FINAL_EVENTS, finalResponseOf, TaskEventHub, TaskEventStream, type TaskLifecycleEvent } from './task-events.js';
import { responseFromDetail, withTimeout } from './wait.js';

export interface OrchestratorClientOptions {
  /** NATS servers, comma-separated, e.g. `nats://127.0.0.1:14222`. */
  natsUrl?: string;
  /** A NATS connection to share instead; the client then neither opens nor closes it. */
  connection?: NatsConnection;
  /** The HTTP API's base URL, e.g. `http://127.0.0.1:3000`. */
  httpUrl?: string;
  /** The orchestrator's `API_KEY`, sent as `X-API-Key`. */
  apiKey?: string;
  /** What `submit`, `cancel`, `signal` and `publishEvent` go through when both are configured; default `nats`. */
  via?: 'nats' | 'http';
  /** How long `wait` and `run` wait for the final response unless told; default 5 minutes. */
  timeoutMs?: number;
  /** How long a single request waits for its answer (HTTP call, NATS submission or cancel); default 30 s. */
  requestTimeoutMs?: number;
  /** How often `wait` asks `GET /tasks/:id` when there is no NATS connection; default 500 ms. */
  pollIntervalMs?: number;
  /** Another `fetch` for the HTTP API. */
  fetch?: typeof fetch;
}

/** The state of a task right after its submission. */
export interface SubmittedTask {
  task_id: string;
  status: TaskStatus;
  /** True when the request repeats a known one: `status` is that task's, nothing new runs. */
  existing: boolean;
}

export interface WaitOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface EventsOptions {
  /** Only this task's events. */
  taskId?: string;
  /** Only these kinds; default all of them. */
  events?: readonly TaskEvent[];
  /** Ends the stream when aborted. */
  signal?: AbortSignal;
}

/**
 * A typed client of the orchestrator. Over NATS it submits, waits, cancels and follows events;
 * over HTTP it submits, gets, lists, cancels, and waits by asking for the task's state. Give one
 * or both: `await OrchestratorClient.connect({ natsUrl, httpUrl, apiKey })`.
 */
export class OrchestratorClient {
  private readonly http: HttpApi | undefined;
  private readonly nats: NatsApi | undefined;
  private readonly hub: TaskEventHub | undefined;
  /** Final responses of tasks this client submitted over NATS, until read or closed. */
  private readonly finals = new Map<string, { final: Promise<TaskResponse>; stop: () => void }>();
  /** The schedules (`/schedules`, HTTP): list, get, create, update, delete, pause, resume, trigger, backfill. */
  readonly schedules = new SchedulesClient(() => this.requireHttp('schedules'));

  private constructor(
    private readonly options: OrchestratorClientOptions,
    private readonly nc: NatsConnection | undefined,
    private readonly ownsConnection: boolean,
  ) {
    if (options.httpUrl) {
      this.http = new HttpApi({
        url: options.httpUrl,
        ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
        ...(options.requestTimeoutMs !== undefined ? { timeoutMs: options.requestTimeoutMs } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
    }
    if (nc) {
      this.hub = new TaskEventHub(nc);
      this.nats = new NatsApi(nc, this.hub);
    }
  }

  /** Opens the NATS connection when `natsUrl` is given. */
  static async connect(options: OrchestratorClientOptions): Promise<OrchestratorClient> {
    if (!options.natsUrl && !options.connection && !options.httpUrl) {
      throw new OrchestratorError('natsUrl, connection or httpUrl: give at least one', { code: 'INVALID_OPTIONS', field: 'natsUrl' });
    }
    if (options.via === 'http' && !options.httpUrl) {
      throw new OrchestratorError('httpUrl: is required with via: "http"', { code: 'INVALID_OPTIONS', field: 'httpUrl' });
    }
    if (options.connection) return new OrchestratorClient(options, options.connection, false);
    if (!options.natsUrl) return new OrchestratorClient(options, undefined, false);
    const nc = await connect({ servers: options.natsUrl.split(','), name: 'orchestrator-client', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    return new OrchestratorClient(options, nc, true);
  }

  /**
   * Submits a TaskRequest. Resolves once the orchestrator has accepted it (`status: RUNNING`, or `PENDING` with a
   * `not_before` to come) or
   * says it knows it (`existing: true`, its state); throws OrchestratorError when it refuses it
   * (the message names the field), the `task_id` is used by another request, or it is overloaded.
   */
  async submit(request: SubmitTaskInput): Promise<SubmittedTask> {
    if (this.submitsOverNats()) {
      const submitted = await this.requireNats().submit(request, this.requestTimeoutMs);
      this.remember(request.task_id, submitted);
      return { task_id: submitted.task_id, status: submitted.status, existing: submitted.existing };
    }
    const reply = await this.requireHttp('submit').submit(request);
    return { task_id: reply.task_id, status: reply.status as TaskStatus, existing: reply.existing };
  }

  /** Submits and waits for the final response (COMPLETED, FAILED or CANCELLED). */
  async run(request: SubmitTaskInput, options: WaitOptions = {}): Promise<TaskResponse> {
    await this.submit(request);
    return this.wait(request.task_id, options);
  }

  /**
   * The final response of a task. Over NATS it listens for the task's final event (and, with
   * HTTP too, first asks whether it has finished already); over HTTP alone it asks every
   * `pollIntervalMs`. Throws OrchestratorError `TIMEOUT` when `timeoutMs` passes first (the task
   * goes on).
   */
  async wait(taskId: string, options: WaitOptions = {}): Promise<TaskResponse> {
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 300_000;
    const mine = this.finals.get(taskId);
    if (mine) {
      const response = await withTimeout(mine.final, timeoutMs, taskId, options.signal);
      this.finals.delete(taskId);
      return response;
    }
    if (this.hub) return withTimeout(this.waitForEvent(taskId), timeoutMs, taskId, options.signal);
    return withTimeout(this.poll(taskId, options.signal), timeoutMs, taskId, options.signal);
  }

  /** `GET /tasks/:task_id`: the task, its progress, plan and every sub-task. 404 throws `TASK_NOT_FOUND`. */
  get(taskId: string): Promise<TaskDetailView> {
    return this.requireHttp('get').get(taskId);
  }

  /**
   * `GET /tasks`: a page, newest first, by `status` and `task_type`, `limit` (1–100, default 20);
   * pass the page's `next_cursor` as `cursor` for the next one (null on the last page).
   */
  list(filter: ListTasksFilter = {}): Promise<TaskListView> {
    return this.requireHttp('list').list(filter);
  }

  /**
   * Cancels a running task. Throws `TASK_NOT_FOUND` (404) for an unknown one, `TASK_FINISHED`
   * (409) for a finished one. Over NATS the orchestrator answers with the task's state, so a task
   * cancelled already answers CANCELLED again rather than TASK_FINISHED.
   */
  cancel(taskId: string): Promise<CancelTaskReply> {
    if (this.submitsOverNats()) return this.requireNats().cancel(taskId, this.requestTimeoutMs);
    return this.requireHttp('cancel').cancel(taskId);
  }

  /**
   * Runs a FAILED or CANCELLED task again from its unfinished steps (completed steps keep their
   * results; the requester gets a new final response). Throws `TASK_NOT_RETRYABLE` (409) when it
   * runs or has completed, `TASK_NOT_FOUND` (404).
   */
  retry(taskId: string): Promise<SubmitTaskReply> {
    return this.requireHttp('retry').retry(taskId);
  }

  /** Runs a finished task's request again under a new `task_id` (in the answer). Throws `TASK_RUNNING` (409) while it runs. */
  rerun(taskId: string): Promise<RerunTaskReply> {
    return this.requireHttp('rerun').rerun(taskId);
  }

  /**
   * Sends a signal to a workflow: the step waiting for it takes it (`outcome: delivered`), or it is
   * kept for the step that will (`kept`); a repeated `signalId` answers `duplicate: true`. Throws
   * `INVALID_PAYLOAD` (the field named), `TASK_NOT_FOUND`, `TASK_FINISHED` or `NO_WAITING_STEP`.
   */
  signal(taskId: string, signal: string, payload: Record<string, unknown> = {}, options: SignalOptions = {}): Promise<SignalReply> {
    if (this.submitsOverNats()) return this.requireNats().signal(taskId, signal, payload, options, this.requestTimeoutMs);
    return this.requireHttp('signal').signal(taskId, signal, payload, options);
  }

  /** Approves a workflow's approval step: the signal `approval` (or `options.signal`) with `{ approved: true, comment? }`. */
  approve(taskId: string, options: ApprovalOptions = {}): Promise<SignalReply> {
    const { signal, payload } = approvalPayload(true, options);
    return this.signal(taskId, signal, payload, options);
  }

  /** Rejects it: `{ approved: false, comment? }`. */
  reject(taskId: string, options: ApprovalOptions = {}): Promise<SignalReply> {
    const { signal, payload } = approvalPayload(false, options);
    return this.signal(taskId, signal, payload, options);
  }

  /**
   * Publishes an external event: every step waiting for `name` whose `match` fields it equals
   * resumes. Over HTTP the answer says how many did; over NATS it is a plain publish (null).
   */
  async publishEvent(name: string, event: Record<string, unknown>): Promise<ExternalEventReply | null> {
    if (!this.submitsOverNats()) return this.requireHttp('publishEvent').publishEvent(name, event);
    await this.requireNats().publishEvent(name, event);
    return null;
  }

  /** `GET /approvals`: the steps waiting for a signal, longest waiting first. */
  approvals(filter: ApprovalsFilter = {}): Promise<ApprovalListView> {
    return this.requireHttp('approvals').approvals(filter);
  }

  /** `GET /tasks/:task_id/events`: a page of the workflow's history, oldest first; `next_after` is the `after` of the next page. */
  history(taskId: string, options: HistoryPageOptions = {}): Promise<HistoryPageView> {
    return this.requireHttp('history').history(taskId, options);
  }

  /**
   * History events live, over Server-Sent Events: of one workflow from its start (`taskId`), or of
   * every workflow from now; resumes by itself with Last-Event-ID when the connection drops.
   */
  stream(options: HistoryStreamOptions = {}): HistoryStream {
    return this.requireHttp('stream').stream(options);
  }

  /** `GET /agents`: the live agents with their capabilities, instances and load. */
  async agents(): Promise<AgentStatusView[]> {
    return (await this.requireHttp('agents').agents()).items;
  }

  /** `GET /workflows`: the workflow definitions the orchestrator loaded. */
  async workflows(): Promise<WorkflowSummaryView[]> {
    return (await this.requireHttp('workflows').workflows()).items;
  }

  /** The lifecycle events on `platform.events.task_*` from now on (NATS), of one task or all. */
  async events(options: EventsOptions = {}): Promise<TaskEventStream> {
    const hub = this.requireHub('events');
    const { taskId } = options;
    const stream = new TaskEventStream((event) => taskId === undefined || event.data.task_id === taskId);
    return stream.attach(hub, options.events ?? ALL_EVENTS, options.signal);
  }

  /** Stops listening, and closes the NATS connection when the client opened it. */
  async close(): Promise<void> {
    for (const { stop } of this.finals.values()) stop();
    this.finals.clear();
    this.hub?.close();
    if (this.ownsConnection && this.nc && !this.nc.isClosed()) await this.nc.drain();
  }

  private get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs ?? 30_000;
  }

  private submitsOverNats(): boolean {
    return this.nats !== undefined && (this.options.via ?? 'nats') === 'nats';
  }

  private remember(taskId: string, submitted: { final: Promise<TaskResponse>; stop: () => void }): void {
    this.finals.get(taskId)?.stop();
    this.finals.set(taskId, { final: submitted.final, stop: submitted.stop });
  }

  private async waitForEvent(taskId: string): Promise<TaskResponse> {
    const hub = this.requireHub('wait');
    let settle: (response: TaskResponse) => void = () => undefined;
    const final = new Promise<TaskResponse>((resolve) => (settle = resolve));
    const stop = await hub.listen(FINAL_EVENTS, (event: TaskLifecycleEvent) => {
      if (event.data.task_id === taskId && 'success' in event.data) settle(finalResponseOf(event.data));
    });
    try {
      // Listening first, then asking: a task that finished before the call is seen either way.
      if (this.http) {
        const detail = await this.http.get(taskId);
        if (isTerminalStatus(detail.status)) return responseFromDetail(detail);
      }
      return await final;
    } finally {
      stop();
    }
  }

  private async poll(taskId: string, signal?: AbortSignal): Promise<TaskResponse> {
    const http = this.requireHttp('wait');
    const every = this.options.pollIntervalMs ?? 500;
    for (;;) {
      const detail = await http.get(taskId);
      if (isTerminalStatus(detail.status)) return responseFromDetail(detail);
      signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, every));
    }
  }

  private requireHttp(what: string): HttpApi {
    if (!this.http) throw new OrchestratorError(`${what} needs the HTTP API: give httpUrl`, { code: 'INVALID_OPTIONS', field: 'httpUrl' });
    return this.http;
  }

  private requireNats(): NatsApi {
    if (!this.nats) throw new OrchestratorError('NATS is not configured: give natsUrl or connection', { code: 'INVALID_OPTIONS', field: 'natsUrl' });
    return this.nats;
  }

  private requireHub(what: string): TaskEventHub {
    if (!this.hub) throw new OrchestratorError(`${what} needs NATS: give natsUrl or connection`, { code: 'INVALID_OPTIONS', field: 'natsUrl' });
    return this.hub;
  }
}
