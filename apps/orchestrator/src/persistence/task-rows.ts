import { randomUUID } from 'node:crypto';
import { BUDGET_FIELDS, ORCHESTRATOR_AGENT_NAME, TaskStatus, type Budget, type TaskPriority, type TaskRequest, type Usage } from '@orchestrator/contracts';
import type { Plan, PlannedStep } from '../planning/plan.js';
import type { TaskEntity } from './task.entity.js';

/**
 * What a transition reads of a row and may change: no jsonb but what it sets itself. `payload`
 * and `result` are present only when the transition gives the row an input or a result, and are
 * then written with it; otherwise they stay as stored.
 */
export interface TaskRow {
  id: string;
  parent_id: string | null;
  root_id: string;
  step_key: string;
  task_type: string;
  agent_name: string | null;
  status: TaskStatus;
  attempts: number;
  max_attempts: number;
  next_attempt_at: Date | null;
  deadline_at: Date | null;
  error: string | null;
  started_at: Date | null;
  completed_at: Date | null;
  updated_at: Date;
  /** A `for_each` step's items: how many, how many were scheduled (in list order) and how many completed. */
  item_count: number | null;
  items_started: number;
  items_done: number;
  /** The line the step waits in for a slot on an agent, or null. */
  waiting_on: string | null;
  /** Its rank in that line. */
  queue_rank: number | null;
  /** What its agents reported it cost (a root's: its workflow's). */
  usage: Usage | null;
  /** What a WAITING step waits for (`signal:<name>`, `event:<hash>`), or null. */
  wait_key: string | null;
  payload?: Record<string, unknown>;
  result?: Record<string, unknown> | null;
}

/** A workflow's root row as transitions see it (the plan and the request's payload are read apart, when needed). */
export interface RootRow extends TaskRow {
  parent_id: null;
  task_id: string;
  priority: TaskPriority;
  requester_id: string | null;
  reply_to: string | null;
  trace_parent: string | null;
  /** 1 for a workflow requested from outside, one more for each `workflow:` step it runs inside. */
  depth: number;
  /** The revision of the stored plan (1 until the planner revises it). */
  plan_revision: number;
  response_sent_at: Date | null;
  /** The key its steps take turns by when agents are busy; null: its requester. */
  fairness_key: string | null;
  /** The key of its workflow's concurrency policy (`<task_type>/<key>`), or null. */
  concurrency_key: string | null;
  budget: Budget | null;
  /** A delayed workflow: PENDING until this time. */
  not_before: Date | null;
}

/** A row as inserted. */
export type NewTask = Omit<TaskEntity, 'created_at' | 'updated_at' | 'response_sent_at'>;

export function isRootRow(row: TaskRow): row is RootRow {
  return row.parent_id === null;
}

function blankRow(id: string, parentId: string | null, rootId: string, taskType: string, priority: TaskPriority): NewTask {
  return {
    id,
    task_id: id,
    parent_id: parentId,
    root_id: rootId,
    task_type: taskType,
    step_key: null,
    agent_name: null,
    status: TaskStatus.Pending,
    priority,
    attempts: 0,
    max_attempts: 1,
    next_attempt_at: null,
    deadline_at: null,
    payload: {},
    result: null,
    error: null,
    requester_id: null,
    reply_to: null,
    plan: null,
    plan_history: null,
    trace_parent: null,
    started_at: null,
    completed_at: null,
    item_count: null,
    items_started: 0,
    items_done: 0,
    waiting_on: null,
    queue_rank: null,
    fairness_key: null,
    depth: 1,
    plan_revision: 1,
    request_hash: null,
    progress: null,
    concurrency_key: null,
    usage: null,
    budget: null,
    wait_key: null,
    not_before: null,
  };
}

export interface NewWorkflow {
  request: TaskRequest;
  plan: Plan;
  replyTo: string | null;
  traceparent: string | null;
  depth: number;
  fingerprint: string | null;
  /** The key its steps take turns by when agents are busy (null: its requester). */
  fairnessKey?: string | null;
  /** Its key under its plan's concurrency policy (`<task_type>/<key>`); null without one. */
  concurrencyKey: string | null;
}

/**
 * The root row of a workflow about to start, or, with a `not_before` still to come, to start then:
 * PENDING, its deadline counted from that time (and moved with its start, should it start later).
 */
export function newRootRow(workflow: NewWorkflow, now: Date): NewTask {
  const { request, plan } = workflow;
  const id = randomUUID();
  const notBefore = request.not_before === undefined || request.not_before * 1000 <= now.getTime() ? null : new Date(request.not_before * 1000);
  return {
    ...blankRow(id, null, id, request.task_type, request.priority),
    task_id: request.task_id,
    // A delayed run waits PENDING for its time; a run with a concurrency key starts QUEUED: its
    // submission decides, under the key's lock, whether it runs now.
    status: notBefore ? TaskStatus.Pending : workflow.concurrencyKey === null ? TaskStatus.Running : TaskStatus.Queued,
    concurrency_key: workflow.concurrencyKey,
    budget: lowest(plan.budget ?? null, request.budget ?? null),
    payload: request.payload,
    requester_id: request.requester_id ?? null,
    reply_to: workflow.replyTo,
    plan,
    trace_parent: workflow.traceparent,
    started_at: notBefore ? null : now,
    not_before: notBefore,
    deadline_at: workflowDeadline(notBefore ?? now, plan.timeout_ms, request.timeout_ms),
    depth: workflow.depth,
    plan_revision: plan.revision ?? 1,
    request_hash: workflow.fingerprint,
    fairness_key: workflow.fairnessKey ?? null,
  };
}

/** A new row for a planned step (parent: the root) or for one item of it (parent: the step's row), not yet scheduled. */
export function newStepRow(planned: PlannedStep, key: string, parentId: string, rootId: string, priority: TaskPriority, payload: Record<string, unknown> = {}): NewTask {
  return {
    ...blankRow(randomUUID(), parentId, rootId, planned.task_type, priority),
    step_key: key,
    agent_name: planned.agent,
    max_attempts: planned.max_attempts,
    requester_id: ORCHESTRATOR_AGENT_NAME,
    payload,
  };
}

/** The part of a new row that transitions work with (its input included: it is written with the insert). */
export function rowState(row: NewTask, now: Date): TaskRow {
  return {
    id: row.id,
    parent_id: row.parent_id,
    root_id: row.root_id,
    step_key: row.step_key ?? '',
    task_type: row.task_type,
    agent_name: row.agent_name,
    status: row.status,
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    next_attempt_at: row.next_attempt_at,
    deadline_at: row.deadline_at,
    error: row.error,
    started_at: row.started_at,
    completed_at: row.completed_at,
    updated_at: now,
    item_count: row.item_count,
    items_started: row.items_started,
    items_done: row.items_done,
    waiting_on: row.waiting_on,
    queue_rank: row.queue_rank,
    usage: row.usage,
    wait_key: row.wait_key,
    payload: row.payload,
  };
}

/** The root row of a new workflow as transitions see it. */
export function rootState(row: NewTask, now: Date): RootRow {
  // The request's payload is read by templates through the workflow's reads, like any stored workflow's.
  const { payload: _payload, ...state } = rowState(row, now);
  return {
    ...state,
    parent_id: null,
    task_id: row.task_id,
    priority: row.priority,
    requester_id: row.requester_id,
    reply_to: row.reply_to,
    trace_parent: row.trace_parent,
    depth: row.depth,
    plan_revision: row.plan_revision,
    response_sent_at: null,
    fairness_key: row.fairness_key,
    concurrency_key: row.concurrency_key,
    budget: row.budget,
    not_before: row.not_before,
  };
}

/** Two budgets as one: the lower of each limit either sets. */
function lowest(a: Budget | null, b: Budget | null): Budget | null {
  if (!a || !b) return a ?? b;
  const budget: Budget = {};
  for (const field of BUDGET_FIELDS) {
    const limits = [a[field], b[field]].filter((limit): limit is number => limit !== undefined);
    if (limits.length > 0) budget[field] = Math.min(...limits);
  }
  return budget;
}

function workflowDeadline(now: Date, planTimeoutMs: number | null, requestTimeoutMs: number | undefined): Date | null {
  const limits = [planTimeoutMs, requestTimeoutMs ?? null].filter((ms): ms is number => ms !== null);
  return limits.length === 0 ? null : new Date(now.getTime() + Math.min(...limits));
}
