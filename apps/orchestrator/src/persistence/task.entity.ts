import { TaskPriority, TaskStatus, type Budget, type Usage } from '@orchestrator/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { Plan, ReplacedPlan } from '../planning/plan.js';

/**
 * One row per task: top-level tasks (workflows) and their sub-tasks (steps) alike.
 * A root row has `parent_id` null and `root_id = id`; its steps point at it with both.
 */
@Entity({ name: 'tasks' })
@Index('tasks_root_task_id_key', ['task_id'], { unique: true, where: 'parent_id IS NULL' })
@Index('tasks_root_id_idx', ['root_id'])
@Index('tasks_parent_key_idx', ['parent_id', 'step_key'], { where: 'parent_id IS NOT NULL' })
/** Steps due for dispatch, in the order the sweeper takes them: CRITICAL first, then oldest (an expression index, made by migration). */
@Index('tasks_due_dispatch_idx', { synchronize: false })
@Index('tasks_due_deadline_idx', ['deadline_at'], { where: `status = 'RUNNING' AND deadline_at IS NOT NULL` })
@Index('tasks_unsent_response_idx', ['completed_at'], {
  where: `parent_id IS NULL AND completed_at IS NOT NULL AND response_sent_at IS NULL`,
})
@Index('tasks_revision_due_idx', ['next_attempt_at'], { where: `parent_id IS NULL AND status = 'RUNNING' AND next_attempt_at IS NOT NULL` })
@Index('tasks_roots_created_idx', ['created_at', 'id'], { where: 'parent_id IS NULL' })
@Index('tasks_roots_status_idx', ['status', 'created_at', 'id'], { where: 'parent_id IS NULL' })
@Index('tasks_roots_type_idx', ['task_type', 'created_at', 'id'], { where: 'parent_id IS NULL' })
@Index('tasks_roots_listing_idx', ['status', 'task_type', 'created_at', 'id'], { where: 'parent_id IS NULL' })
@Index('tasks_roots_finished_idx', ['completed_at'], { where: 'parent_id IS NULL AND completed_at IS NOT NULL' })
@Index('tasks_concurrency_running_idx', ['concurrency_key'], { where: `parent_id IS NULL AND status = 'RUNNING' AND concurrency_key IS NOT NULL` })
@Index('tasks_concurrency_queued_idx', ['concurrency_key', 'created_at'], { where: `parent_id IS NULL AND status = 'QUEUED'` })
@Index('tasks_queued_due_idx', ['next_attempt_at'], { where: `parent_id IS NULL AND status = 'QUEUED' AND next_attempt_at IS NOT NULL` })
@Index('tasks_waiting_on_idx', ['waiting_on'], { where: `status = 'PENDING' AND waiting_on IS NOT NULL` })
@Index('tasks_queued_deadline_idx', ['deadline_at'], { where: `parent_id IS NULL AND status = 'QUEUED' AND deadline_at IS NOT NULL` })
/** Steps that wait: by what they wait for, by their timeout, by the end of their sleep, and those waiting for a signal. */
@Index('tasks_waiting_key_idx', ['wait_key'], { where: `status = 'WAITING' AND wait_key IS NOT NULL` })
@Index('tasks_waiting_deadline_idx', ['deadline_at'], { where: `status = 'WAITING' AND deadline_at IS NOT NULL` })
@Index('tasks_waiting_wake_idx', ['next_attempt_at'], { where: `status = 'WAITING' AND next_attempt_at IS NOT NULL` })
@Index('tasks_waiting_signal_idx', ['started_at', 'id'], { where: `status = 'WAITING' AND wait_key LIKE 'signal:%'` })
@Index('tasks_delayed_due_idx', ['not_before'], { where: `parent_id IS NULL AND status = 'PENDING' AND not_before IS NOT NULL` })
export class TaskEntity {
  @PrimaryColumn('uuid')
  id!: string;

  /** The id on the wire: the request's `task_id` for a root, the row id for a step. */
  @Column('text')
  task_id!: string;

  @Column('uuid', { nullable: true })
  parent_id!: string | null;

  @Column('uuid')
  root_id!: string;

  @Column('text')
  task_type!: string;

  @Column('text', { nullable: true })
  step_key!: string | null;

  @Column('text', { nullable: true })
  agent_name!: string | null;

  @Column('text')
  status!: TaskStatus;

  @Column('text', { default: TaskPriority.Normal })
  priority!: TaskPriority;

  @Column('integer', { default: 0 })
  attempts!: number;

  @Column('integer', { default: 1 })
  max_attempts!: number;

  @Column('timestamptz', { nullable: true })
  next_attempt_at!: Date | null;

  @Column('timestamptz', { nullable: true })
  deadline_at!: Date | null;

  @Column('jsonb', { default: () => `'{}'::jsonb` })
  payload!: Record<string, unknown>;

  @Column('jsonb', { nullable: true })
  result!: Record<string, unknown> | null;

  @Column('text', { nullable: true })
  error!: string | null;

  @Column('text', { nullable: true })
  requester_id!: string | null;

  @Column('text', { nullable: true })
  reply_to!: string | null;

  /** The plan the workflow runs, stored when it starts (root rows only). */
  @Column('jsonb', { nullable: true })
  plan!: Plan | null;

  /** The plans the workflow ran before the planner revised them, oldest first (root rows only). */
  @Column('jsonb', { nullable: true })
  plan_history!: ReplacedPlan[] | null;

  /** The W3C traceparent of the request (root rows only), carried to every sub-task and the final response. */
  @Column('text', { nullable: true })
  trace_parent!: string | null;

  /** When the final TaskResponse was published (root rows only): it is sent again until set. */
  @Column('timestamptz', { nullable: true })
  response_sent_at!: Date | null;

  @Column('timestamptz', { default: () => 'now()' })
  created_at!: Date;

  @Column('timestamptz', { default: () => 'now()' })
  updated_at!: Date;

  @Column('timestamptz', { nullable: true })
  started_at!: Date | null;

  @Column('timestamptz', { nullable: true })
  completed_at!: Date | null;

  /** A `for_each` step's number of items (null for other rows), and how many were scheduled and completed. */
  @Column('integer', { nullable: true })
  item_count!: number | null;

  @Column('integer', { default: 0 })
  items_started!: number;

  @Column('integer', { default: 0 })
  items_done!: number;

  /** The line a step waits in for a slot on an agent (`a:<agents>` or `c:<capability>`); null when it is not waiting for one. */
  @Column('text', { nullable: true })
  waiting_on!: string | null;

  /** A waiting step's rank in its line (priority, then its turn among fairness keys). */
  @Column('double precision', { nullable: true })
  queue_rank!: number | null;

  /** Root rows: the key its steps take turns by when agents are busy; null: its requester. */
  @Column('text', { nullable: true })
  fairness_key!: string | null;

  /** Root rows: the revision of `plan` (1 until the planner revises it), read at every event without reading the plan. */
  @Column('integer', { default: 1 })
  plan_revision!: number;

  /** Root rows: a hash of what the request asked (task_type, payload, priority, requester), to tell a repeat from another request under the same task_id. */
  @Column('text', { nullable: true })
  request_hash!: string | null;

  /** Root rows: 1 for a workflow requested from outside, one more per `workflow:` step it runs inside. */
  @Column('integer', { default: 1 })
  depth!: number;

  /** Sub-tasks: the latest progress its agent reported for the current attempt (`agent.<name>.progress`). */
  @Column('jsonb', { nullable: true })
  progress!: StepProgress | null;

  /** Root rows: the key its workflow's `concurrency` gave it (`<task_type>/<key>`); at most `max_runs` roots of one key are RUNNING. */
  @Column('text', { nullable: true })
  concurrency_key!: string | null;

  /** What its agents reported it cost, over all its attempts; a root's: its whole workflow's (child workflows included). */
  @Column('jsonb', { nullable: true })
  usage!: Usage | null;

  /** Root rows: what the workflow may spend (its file's budget, lowered by the request's). */
  @Column('jsonb', { nullable: true })
  budget!: Budget | null;

  /** A waiting step: what it waits for (`signal:<name>`, or `event:<hash of the event's name and matched values>`). */
  @Column('text', { nullable: true })
  wait_key!: string | null;

  /** Root rows: when a delayed workflow (the request's `not_before`) starts; it stays PENDING until then. Null for one that started when submitted. */
  @Column('timestamptz', { nullable: true })
  not_before!: Date | null;
}

/** A step's latest progress: how much is done (0 to 1), the agent's message, when it was reported (ISO 8601), for which attempt. */
export interface StepProgress {
  fraction: number;
  message: string | null;
  at: string;
  attempt: number;
}
