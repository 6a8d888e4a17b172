// The JSON the orchestrator's HTTP API answers (GET /docs has the full description).

export type TaskStatus = 'PENDING' | 'QUEUED' | 'RUNNING' | 'WAITING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
export const TASK_STATUSES: readonly TaskStatus[] = ['PENDING', 'QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'];
export const FINISHED: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export type Priority = 'LOW' | 'NORMAL' | 'HIGH' | 'CRITICAL';
export const PRIORITIES: readonly Priority[] = ['LOW', 'NORMAL', 'HIGH', 'CRITICAL'];

export interface TaskSummary {
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
}

export interface TaskPage {
  items: TaskSummary[];
  limit: number;
  next_cursor: string | null;
  total?: number;
}

export interface StepProgress {
  fraction: number;
  message: string | null;
  at: string;
  attempt: number;
}

/** One row of a workflow: a step of its plan, an item of a `for_each` step (`step[i]`), or a step a revision dropped (`step@1`). */
export interface StepRow {
  step: string;
  task_type: string;
  agent: string | null;
  status: TaskStatus;
  depends_on: string[];
  attempts: number;
  max_attempts: number;
  input?: Record<string, unknown>;
  started_at: string | null;
  completed_at: string | null;
  next_attempt_at: string | null;
  deadline_at: string | null;
  result: Record<string, unknown> | null;
  error: string | null;
  progress?: StepProgress | null;
  usage?: Usage | null;
  wait?: StepWait | null;
}

/** What work cost, as agents report it. */
export interface Usage {
  tokens?: number;
  input_tokens?: number;
  output_tokens?: number;
  cost?: number;
}

/** What a `wait_for` or `sleep` step waits for. */
export interface StepWait {
  kind: 'signal' | 'event' | 'sleep';
  signal?: string;
  event?: string;
  match?: Record<string, unknown>;
  until: string | null;
  on_timeout?: 'fail' | 'skip' | 'continue';
}

export interface Budget {
  max_tokens?: number;
  max_cost?: number;
}

export interface PlannedStep {
  id: string;
  agent?: string | null;
  capability?: string | null;
  workflow?: string | null;
  task_type: string;
  depends_on: string[];
  for_each?: string | null;
  when?: string | null;
  optional?: boolean;
  input?: unknown;
  timeout_ms?: number;
  max_attempts?: number;
}

export interface Plan {
  task_type: string;
  version: number;
  revision?: number;
  steps: PlannedStep[];
}

export interface TaskDetail extends TaskSummary {
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  workflow: { task_type: string; version: number } | null;
  plan: Plan | null;
  plan_history: { plan: Plan; failed_step: string; error: string; replaced_at: string }[];
  steps: StepRow[];
  usage?: Usage | null;
  budget?: Budget | null;
}

export interface HistoryEvent {
  id: number;
  task_id: string;
  task_type: string;
  step_id: string | null;
  kind: string;
  status: string;
  at: string;
  data: Record<string, unknown> | null;
}

export interface AgentLoad {
  in_flight: number;
  max_concurrency: number;
}

export interface AgentInstance {
  instance_id: string;
  agent_type: string;
  capabilities: string[];
  load: AgentLoad | null;
  last_seen: string;
}

export interface AgentInfo {
  name: string;
  capabilities: string[];
  static: boolean;
  capacity: number | null;
  reported_in_flight: number;
  in_flight: number;
  load: number | null;
  instances: AgentInstance[];
  rate_limit?: { limit: number; per: 'second' | 'minute' | 'hour' } | null;
  /** Sub-tasks its rate limit takes now; null without one. */
  rate_headroom?: number | null;
  /** Steps waiting for a free slot on it. */
  waiting?: number;
}

export interface WorkflowDefinition {
  task_type: string;
  version: number;
  description: string | null;
  plan: 'fixed' | 'dynamic';
  steps: { id: string; agent: string | null; capability: string | null; task_type: string; depends_on: string[] }[];
  payload: Record<string, unknown>;
}

export interface Listing<T> {
  items: T[];
}

/** A step waiting for a signal (`GET /approvals`). */
export interface Approval {
  task_id: string;
  task_type: string;
  step: string;
  signal: string;
  input: Record<string, unknown>;
  payload: Record<string, unknown>;
  waiting_since: string;
  deadline_at: string | null;
  on_timeout: 'fail' | 'skip' | 'continue';
}

export interface ApprovalPage {
  items: Approval[];
  limit: number;
  next_cursor: string | null;
}
