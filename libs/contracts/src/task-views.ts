/**
 * What the orchestrator's HTTP API answers and what its lifecycle events carry, for clients.
 * The orchestrator builds its views to these types, so a change to one shows in both.
 */
import type { AgentLoad } from './agent-announcement.dto.js';
import type { TaskStatus } from './enums.js';
import type { RateLimit } from './rate-limit.js';
import type { Budget, Usage } from './usage.js';
import type { HistoryEvent } from './history-event.js';
import type { TaskResponse } from './task-response.js';

/** `POST /tasks`: 202 when accepted, 200 for a repeat of a known request. */
export interface SubmitTaskReply {
  task_id: string;
  status: string;
  links: { self: string };
}

/** `POST /tasks/:task_id/retry` answers a SubmitTaskReply; `POST /tasks/:task_id/rerun`: 202 with the new task. */
export interface RerunTaskReply extends SubmitTaskReply {
  /** The task whose request runs again. */
  rerun_of: string;
}

/** `POST /tasks/:task_id/cancel`: 200 once cancelled. */
export interface CancelTaskReply {
  task_id: string;
  status: string;
}

/** The body of every HTTP error: a stable `code` and a message naming the field or the reason. */
export interface ApiErrorBody {
  code: string;
  message: string;
  task_id?: string;
  /** On a 409 from cancel: the status the task had finished with. */
  status?: string;
  correlation_id?: string;
}

/** A step of a plan, as much of it as a client relies on; the rest is the workflow file's format. */
export interface PlanStepView {
  id: string;
  depends_on: string[];
}

/** The plan a workflow runs (a workflow file's steps after defaults, or the planner agent's). */
export interface PlanView {
  task_type: string;
  version: number;
  steps: PlanStepView[];
  output: unknown;
  timeout_ms: number | null;
  revision?: number;
  replan?: { max_revisions: number } | null;
}

/** A plan the planner agent replaced after `failed_step` failed for good. */
export interface ReplacedPlanView {
  plan: PlanView;
  failed_step: string;
  error: string;
  replaced_at: string;
}

export interface SubTaskView {
  step: string;
  task_type: string;
  agent: string | null;
  status: TaskStatus;
  depends_on: string[];
  attempts: number;
  max_attempts: number;
  /** What the step was sent (its plan's input, resolved); `{}` before it is sent; for a `for_each` step, `{ items: <count> }`. */
  input: Record<string, unknown>;
  started_at: string | null;
  completed_at: string | null;
  next_attempt_at: string | null;
  deadline_at: string | null;
  result: Record<string, unknown> | null;
  error: string | null;
  /** The latest progress its agent reported (of the attempt it names). */
  progress: StepProgressView | null;
  /** What its agent reported it cost, over its attempts; a `for_each` step's: its items'; a `workflow:` step's: its child workflow's. */
  usage: Usage | null;
  /** What a `wait_for` or `sleep` step waits for (while WAITING and after); null for other steps. */
  wait?: StepWaitView | null;
}

/** What a step waits for: a signal (a person, another service), an external event, or a time. */
export interface StepWaitView {
  kind: 'signal' | 'event' | 'sleep';
  /** The signal's name (kind `signal`). */
  signal?: string;
  /** The event's name and the fields it must have (kind `event`). */
  event?: string;
  match?: Record<string, unknown>;
  /** When a sleep ends, or a wait times out (ISO 8601); null when it waits until cancelled. */
  until: string | null;
  /** What a timeout does: `fail`, `skip` or `continue`. */
  on_timeout?: 'fail' | 'skip' | 'continue';
}

/** A step waiting for a signal (`GET /approvals`): what a person is asked to decide. */
export interface ApprovalView {
  task_id: string;
  task_type: string;
  step: string;
  signal: string;
  /** What the step shows the person: its `input`, resolved. */
  input: Record<string, unknown>;
  /** The fields the signal's payload must have (the step's `payload`), by name. */
  payload: Record<string, unknown>;
  waiting_since: string;
  /** When it times out; null when it waits until cancelled. */
  deadline_at: string | null;
  on_timeout: 'fail' | 'skip' | 'continue';
}

/** `GET /approvals`: the steps waiting for a signal, longest waiting first. */
export interface ApprovalListView {
  items: ApprovalView[];
  limit: number;
  /** Pass as `cursor` for the next page; null on the last one. */
  next_cursor: string | null;
}

/** A step's latest progress: how much is done (0 to 1), the agent's message, when (ISO 8601), for which attempt. */
export interface StepProgressView {
  fraction: number;
  message: string | null;
  at: string;
  attempt: number;
}

/** A task in `GET /tasks`; times are ISO 8601. */
export interface TaskSummaryView {
  task_id: string;
  task_type: string;
  status: TaskStatus;
  priority: string;
  requester_id: string | null;
  progress: { done: number; total: number };
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  error: string | null;
  /** A delayed task (its request's `not_before`): when it starts, or started; PENDING until then. */
  not_before: string | null;
}

/** `GET /tasks/:task_id`. */
export interface TaskDetailView extends TaskSummaryView {
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  workflow: { task_type: string; version: number } | null;
  /** The plan this workflow runs, as stored when it started. */
  plan: PlanView | null;
  /** The plans the workflow ran before the planner revised them, oldest first. */
  plan_history: ReplacedPlanView[];
  steps: SubTaskView[];
  /** What the whole workflow cost so far: every step's usage, child workflows included. */
  usage: Usage | null;
  /** What it may spend (its workflow file's budget, lowered by the request's); null: no limit. */
  budget: Budget | null;
}

/** `GET /tasks`: a page, newest first. */
export interface TaskListView {
  items: TaskSummaryView[];
  limit: number;
  /** Pass as `cursor` for the next page; null on the last one. */
  next_cursor: string | null;
  /** Only when asked with `count=true`. */
  total?: number;
}

/** `GET /tasks/:task_id/events`: a page of a workflow's history, oldest first. */
export interface HistoryPageView {
  items: HistoryEvent[];
  /** Pass as `after` for the next page; null on the last one. */
  next_after: number | null;
}

/** One running process of an agent, as the registry last heard of it. */
export interface AgentInstanceView {
  instance_id: string;
  agent_type: string;
  capabilities: string[];
  load: AgentLoad | null;
  last_seen: string;
}

/** An agent in `GET /agents`: its live instances and its load as the router sees it. */
export interface AgentStatusView {
  name: string;
  capabilities: string[];
  /** Declared in STATIC_AGENTS (or discovered in Consul): considered live without heartbeats. */
  static: boolean;
  /** Sum of the live instances' max_concurrency; null when unknown (no limit is applied). */
  capacity: number | null;
  /** Sum of the live instances' reported in_flight. */
  reported_in_flight: number;
  instances: AgentInstanceView[];
  /** Sub-tasks the orchestrators have in flight on this agent (all replicas). */
  in_flight: number;
  /** What the router ranks by: the larger of in_flight and reported_in_flight over capacity. */
  load: number | null;
  /** Sub-tasks it takes per window, from AGENT_RATE_LIMITS or, failing that, the tightest its instances announce; null: none. */
  rate_limit: RateLimit | null;
  /** How many more sub-tasks its rate limit takes now (all replicas); null without a rate limit. */
  rate_headroom: number | null;
  /** Steps waiting for a free slot on it. */
  waiting: number;
}

/** A workflow definition in `GET /workflows`. */
export interface WorkflowSummaryView {
  task_type: string;
  version: number;
  description: string | null;
  /** `fixed`: the steps below; `dynamic`: planned per request by the planner agent. */
  plan: 'fixed' | 'dynamic';
  steps: { id: string; agent: string | null; capability: string | null; task_type: string; depends_on: string[] }[];
  payload: Record<string, unknown>;
}

/** `platform.events.task_created` and `task_started`. */
export interface TaskStartedEvent {
  task_id: string;
  task_type: string;
  status: TaskStatus;
  ts: number;
}

/** `platform.events.task_progress`: a step (or an item of a `for_each` step) changed state. */
export interface TaskProgressEvent {
  task_id: string;
  step: string;
  status: TaskStatus;
  done: number;
  total: number;
  ts: number;
}

/** `platform.events.task_completed`, `task_failed` and `task_cancelled`: the final response. */
export interface TaskFinishedEvent extends TaskResponse {
  task_type: string;
}
