import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A schedule: what it runs (`task_type`, `payload`, `priority`), when (`cron` in `timezone`, or
 * `every_ms`), and where it is: the next tick not handled yet (`next_fire_at`), the last run it
 * started (`last_task_id`) and the run of a tick waiting for that one to end (`buffered_task_id`, buffer_one).
 * The SQL is in SchedulesRepository.
 */
@Entity({ name: 'schedules' })
@Check('schedules_timing_check', '(cron IS NULL) <> (every_ms IS NULL)')
@Index('schedules_due_idx', ['next_fire_at'], { where: 'NOT paused' })
@Index('schedules_buffered_idx', ['buffered_task_id'], { where: 'buffered_task_id IS NOT NULL' })
export class ScheduleEntity {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'schedules_pkey' })
  schedule_id!: string;

  @Column('text')
  task_type!: string;

  @Column('jsonb', { default: () => `'{}'::jsonb` })
  payload!: Record<string, unknown>;

  @Column('text', { default: 'NORMAL' })
  priority!: string;

  @Column('text', { nullable: true })
  cron!: string | null;

  @Column('bigint', { nullable: true })
  every_ms!: string | null;

  @Column('text', { nullable: true })
  timezone!: string | null;

  @Column('text', { default: 'skip' })
  overlap!: string;

  @Column('bigint', { default: 60000 })
  catchup_window_ms!: string;

  @Column('boolean', { default: false })
  paused!: boolean;

  /** The schedule file that declares it; null for one made over the API. */
  @Column('text', { nullable: true })
  file!: string | null;

  @Column('timestamptz', { nullable: true })
  next_fire_at!: Date | null;

  @Column('text', { nullable: true })
  last_task_id!: string | null;

  @Column('text', { nullable: true })
  buffered_task_id!: string | null;

  @Column('bigint', { default: 0 })
  fires!: string;

  @Column('bigint', { default: 0 })
  skipped!: string;

  @Column('timestamptz', { default: () => 'now()' })
  created_at!: Date;

  @Column('timestamptz', { default: () => 'now()' })
  updated_at!: Date;
}

/** One tick of a schedule and what it led to, keyed by the task_id the tick gives its run. */
@Entity({ name: 'schedule_runs' })
@Index('schedule_runs_recent_idx', ['schedule_id', 'created_at'])
@Index('schedule_runs_created_idx', ['created_at'])
export class ScheduleRunEntity {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'PK_schedule_runs' })
  schedule_id!: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'PK_schedule_runs' })
  task_id!: string;

  @Column('timestamptz')
  tick_at!: Date;

  @Column('text')
  kind!: string;

  @Column('text')
  outcome!: string;

  @Column('text', { nullable: true })
  reason!: string | null;

  @Column('timestamptz', { default: () => 'now()' })
  created_at!: Date;
}
