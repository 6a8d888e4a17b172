// The JSON the orchestrator's HTTP API answers (GET /docs has the full description).

export type TaskStatus = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
export const TASK_STATUSES: readonly TaskStatus[] = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'];
export const FINISHED: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export type Priority = 'LOW' | 'NORMAL' | 'HIGH' | 'CRITICAL';
export const PRIORITIES: readonly Priority[] = ['LOW', 'NORMAL', 'HIGH', 'CRITICAL'];

/** A task's steps by how they ended: `done` ran and completed, `skipped` completed without running (a false `when`). */
export interface TaskProgress {
  done: number;
  skipped: number;
  failed: number;
  cancelled: number;
  total: number;
}

export interface TaskSummary {
  task_id: string;
  task_type: string;
  status: TaskStatus;
  priority: string;
  requester_id: string | null;
  progress: TaskProgress;
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
