import { TaskPriority, TaskStatus } from '@orchestrator/contracts';
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
@Index('tasks_roots_requester_idx', ['requester_id', 'created_at', 'id'], { where: 'parent_id IS NULL' })
@Index('tasks_steps_agent_idx', ['agent_name', 'root_id'], { where: 'parent_id IS NOT NULL' })
/** Search by payload fields (GIN, jsonb_path_ops) and by error text (GIN, pg_trgm): made by migration. */
@Index('tasks_roots_payload_idx', { synchronize: false })
@Index('tasks_roots_error_idx', { synchronize: false })
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

  /** The agents (comma-separated) a step waits on for a free slot; null when it is not waiting for one. */
  @Column('text', { nullable: true })
  waiting_on!: string | null;

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
}

/** A step's latest progress: how much is done (0 to 1), the agent's message, when it was reported (ISO 8601), for which attempt. */
export interface StepProgress {
  fraction: number;
  message: string | null;
  at: string;
  attempt: number;
}
