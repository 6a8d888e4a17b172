import type {
  AgentStatusView,
  ApprovalListView,
  ExternalEventReply,
  SignalReply,
  BackfillReply,
  CancelTaskReply,
  HistoryPageView,
  RerunTaskReply,
  ScheduleView,
  SubmitTaskReply,
  TaskDetailView,
  TaskListView,
  TaskStatus,
  TriggerReply,
  WorkflowSummaryView,
} from '@orchestrator/contracts';
import { HistoryStream, type HistoryStreamOptions } from './history-stream.js';
import { httpError, OrchestratorError } from './orchestrator-error.js';
import type { ApprovalsFilter, SignalOptions } from './signals.js';
import type { ScheduleInput, SchedulePatchInput } from './schedule-input.js';
import type { SubmitTaskInput } from './submit-task-input.js';

export interface HttpApiOptions {
  /** The orchestrator's base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** Sent as `X-API-Key` when the orchestrator has `API_KEY` set. */
  apiKey?: string;
  /** Each call's limit; default 30 s. */
  timeoutMs?: number;
  /** Another `fetch` (a proxy's, a test's); default the global one. */
  fetch?: typeof fetch;
}

export interface ListTasksFilter {
  status?: TaskStatus | `${TaskStatus}`;
  task_type?: string;
  /** 1 to 100, default 20. */
  limit?: number;
  /** The previous page's `next_cursor`: the tasks after those. */
  cursor?: string;
  /** Count every task the filters match into `total` (a scan of them: ask only when needed). */
  count?: boolean;
}

export interface HistoryPageOptions {
  /** Events after this event id (the previous page's `next_after`); default from the start. */
  after?: number;
  /** 1 to 1000, default 100. */
  limit?: number;
}

/** A submission accepted (202) or a repeat of a known request (200). */
export interface HttpSubmitted extends SubmitTaskReply {
  existing: boolean;
}

/** The orchestrator's HTTP API, one method per route; an answer that is not 2xx throws OrchestratorError. */
export class HttpApi {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: HttpApiOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async submit(request: SubmitTaskInput, traceparent?: string): Promise<HttpSubmitted> {
    const { status, body } = await this.call<SubmitTaskReply>('POST', '/tasks', request, traceparent ? { traceparent } : {});
    return { ...body, existing: status === 200 };
  }

  async get(taskId: string): Promise<TaskDetailView> {
    return (await this.call<TaskDetailView>('GET', `/tasks/${encodeURIComponent(taskId)}`)).body;
  }

  async list(filter: ListTasksFilter = {}): Promise<TaskListView> {
    return (await this.call<TaskListView>('GET', `/tasks${listQuery(filter)}`)).body;
  }

  async cancel(taskId: string): Promise<CancelTaskReply> {
    return (await this.call<CancelTaskReply>('POST', `/tasks/${encodeURIComponent(taskId)}/cancel`)).body;
  }

  /** `POST /tasks/:task_id/retry`: a FAILED or CANCELLED task runs again from its unfinished steps. */
  async retry(taskId: string): Promise<SubmitTaskReply> {
    return (await this.call<SubmitTaskReply>('POST', `/tasks/${encodeURIComponent(taskId)}/retry`)).body;
  }

  /** `POST /tasks/:task_id/rerun`: a finished task's request runs again under a new task_id. */
  async rerun(taskId: string): Promise<RerunTaskReply> {
    return (await this.call<RerunTaskReply>('POST', `/tasks/${encodeURIComponent(taskId)}/rerun`)).body;
  }

  /** `GET /tasks/:task_id/events`: a page of the workflow's history, oldest first. */
  async history(taskId: string, options: HistoryPageOptions = {}): Promise<HistoryPageView> {
    const params = new URLSearchParams();
    if (options.after !== undefined) params.set('after', String(options.after));
    if (options.limit !== undefined) params.set('limit', String(options.limit));
    const query = params.size > 0 ? `?${params.toString()}` : '';
    return (await this.call<HistoryPageView>('GET', `/tasks/${encodeURIComponent(taskId)}/events${query}`)).body;
  }

  /** `POST /tasks/:task_id/signals/:signal`: a signal for the workflow's step waiting for it (or kept for the step that will). */
  async signal(taskId: string, signal: string, payload: Record<string, unknown> = {}, options: SignalOptions = {}): Promise<SignalReply> {
    const headers: Record<string, string> = options.signalId !== undefined ? { 'idempotency-key': options.signalId } : {};
    return (await this.call<SignalReply>('POST', `/tasks/${encodeURIComponent(taskId)}/signals/${encodeURIComponent(signal)}`, payload, headers)).body;
  }

  /** `POST /events/:name`: an external event for the steps waiting for it. */
  async publishEvent(name: string, event: Record<string, unknown>): Promise<ExternalEventReply> {
    return (await this.call<ExternalEventReply>('POST', `/events/${encodeURIComponent(name)}`, event)).body;
  }

  /** `GET /approvals`: the steps waiting for a signal, longest waiting first. */
  async approvals(filter: ApprovalsFilter = {}): Promise<ApprovalListView> {
    const params = new URLSearchParams();
    for (const key of ['signal', 'limit', 'cursor'] as const) {
      const value = filter[key];
      if (value !== undefined) params.set(key, String(value));
    }
    const query = params.size > 0 ? `?${params.toString()}` : '';
    return (await this.call<ApprovalListView>('GET', `/approvals${query}`)).body;
  }

  /** `GET /agents`: the live agents, their capabilities and load. */
  async agents(): Promise<{ items: AgentStatusView[] }> {
    return (await this.call<{ items: AgentStatusView[] }>('GET', '/agents')).body;
  }

  /** `GET /workflows`: the workflow definitions the orchestrator loaded. */
  async workflows(): Promise<{ items: WorkflowSummaryView[] }> {
    return (await this.call<{ items: WorkflowSummaryView[] }>('GET', '/workflows')).body;
  }

  /** `GET /schedules`: every schedule, its next ticks and last run. */
  async schedules(): Promise<{ items: ScheduleView[] }> {
    return (await this.call<{ items: ScheduleView[] }>('GET', '/schedules')).body;
  }

  /** `GET /schedules/:id`: a schedule with its last runs. */
  async schedule(scheduleId: string): Promise<ScheduleView> {
    return (await this.call<ScheduleView>('GET', schedulePath(scheduleId))).body;
  }

  async createSchedule(schedule: ScheduleInput): Promise<ScheduleView> {
    return (await this.call<ScheduleView>('POST', '/schedules', schedule)).body;
  }

  async updateSchedule(scheduleId: string, patch: SchedulePatchInput): Promise<ScheduleView> {
    return (await this.call<ScheduleView>('PATCH', schedulePath(scheduleId), patch)).body;
  }

  async deleteSchedule(scheduleId: string): Promise<{ schedule_id: string; deleted: boolean }> {
    return (await this.call<{ schedule_id: string; deleted: boolean }>('DELETE', schedulePath(scheduleId))).body;
  }

  /** `POST /schedules/:id/pause` or `/resume`. */
  async pauseSchedule(scheduleId: string, paused: boolean): Promise<ScheduleView> {
    return (await this.call<ScheduleView>('POST', `${schedulePath(scheduleId)}/${paused ? 'pause' : 'resume'}`)).body;
  }

  async triggerSchedule(scheduleId: string): Promise<TriggerReply> {
    return (await this.call<TriggerReply>('POST', `${schedulePath(scheduleId)}/trigger`)).body;
  }

  /** `from` and `to`: Dates, ISO 8601 strings or epoch milliseconds. */
  async backfillSchedule(scheduleId: string, from: Date | string | number, to: Date | string | number): Promise<BackfillReply> {
    const moment = (value: Date | string | number): string | number => (value instanceof Date ? value.toISOString() : value);
    return (await this.call<BackfillReply>('POST', `${schedulePath(scheduleId)}/backfill`, { from: moment(from), to: moment(to) })).body;
  }

  /** `GET /tasks/:task_id/stream` (with `taskId`) or `GET /events/stream`: history events as they are committed. */
  stream(options: HistoryStreamOptions = {}): HistoryStream {
    const headers: Record<string, string> = this.options.apiKey ? { 'x-api-key': this.options.apiKey } : {};
    return new HistoryStream({ base: this.base, headers, fetch: this.fetch }, options);
  }

  private async call<T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.apiKey) headers['x-api-key'] = this.options.apiKey;
    let res: Response;
    try {
      res = await this.fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      throw new OrchestratorError(`${method} ${this.base}${path}: ${reason}`, { code: 'UNAVAILABLE' }, { cause: error });
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: the error below quotes the text
    }
    if (!res.ok) throw httpError(res.status, parsed, res.headers);
    return { status: res.status, body: parsed as T };
  }
}

const schedulePath = (scheduleId: string): string => `/schedules/${encodeURIComponent(scheduleId)}`;

/** `?status=&task_type=&limit=&cursor=&count=` with only the filters given. */
export function listQuery(filter: ListTasksFilter): string {
  const params = new URLSearchParams();
  for (const key of ['status', 'task_type', 'limit', 'cursor', 'count'] as const) {
    const value = filter[key];
    if (value !== undefined) params.set(key, String(value));
  }
  const query = params.toString();
  return query ? `?${query}` : '';
}
