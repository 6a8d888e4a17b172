import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A workflow's history, append-only: one row per thing that happened to it (submitted, a step
 * dispatched, answered, retried…), written in the transaction of the transition it records.
 * `root_id` has no foreign key: a retention job deletes events by root in batches, apart from
 * the workflows.
 */
@Entity({ name: 'task_events' })
@Index('task_events_root_idx', ['root_id', 'id'])
export class TaskEventEntity {
  /** Its place in the history: in one workflow, events are numbered in the order they were committed. */
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'PK_task_events_id' })
  id!: string;

  /** The workflow's root row. */
  @Column('uuid')
  root_id!: string;

  /** The workflow's task_id on the wire. */
  @Column('text')
  task_id!: string;

  @Column('text')
  task_type!: string;

  /** The step (or `for_each` item) it is about; null for the workflow itself. */
  @Column('text', { nullable: true })
  step_id!: string | null;

  @Column('text')
  kind!: string;

  /** The workflow's status once the transition committed. */
  @Column('text')
  status!: string;

  @Column('timestamptz', { default: () => 'clock_timestamp()' })
  at!: Date;

  @Column('jsonb', { nullable: true })
  data!: Record<string, unknown> | null;
}
