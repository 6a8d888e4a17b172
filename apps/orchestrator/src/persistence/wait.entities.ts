import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A signal a workflow received (`agent.orchestrator_agent.signal`, `POST /tasks/:task_id/signals/:signal`):
 * kept until a step waiting for it takes it (`taken_by`), in the order signals came; its
 * `signal_id`, when given, is taken once per workflow.
 */
@Entity({ name: 'workflow_signals' })
@Index('workflow_signals_root_idx', ['root_id', 'signal', 'id'])
@Index('workflow_signals_signal_id_key', ['root_id', 'signal_id'], { unique: true, where: 'signal_id IS NOT NULL' })
export class WorkflowSignalEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'PK_workflow_signals_id' })
  id!: string;

  /** The workflow's root row (no foreign key: retention deletes them by root, with the workflow). */
  @Column('uuid')
  root_id!: string;

  @Column('text')
  signal!: string;

  @Column('text', { nullable: true })
  signal_id!: string | null;

  @Column('jsonb', { default: () => `'{}'::jsonb` })
  payload!: Record<string, unknown>;

  /** Who sent it: `{ via: 'nats' | 'http', by }`. */
  @Column('jsonb', { nullable: true })
  sent_by!: Record<string, unknown> | null;

  @Column('timestamptz', { default: () => 'now()' })
  received_at!: Date;

  /** The step row that took it; null while it is kept for a step not waiting yet. */
  @Column('uuid', { nullable: true })
  taken_by!: string | null;
}

/** Per event name, a set of fields steps match it on (sorted), and how long its events are kept for steps that start later. */
@Entity({ name: 'event_shapes' })
export class EventShapeEntity {
  @PrimaryColumn('text')
  event!: string;

  @PrimaryColumn('text', { array: true })
  keys!: string[];

  @Column('integer', { default: 0 })
  lookback_ms!: number;
}

/** An external event kept for steps that start within its `lookback_ms`. */
@Entity({ name: 'external_events' })
@Index('external_events_event_idx', ['event', 'received_at'])
@Index('external_events_payload_idx', { synchronize: false })
@Index('external_events_expiry_idx', ['keep_until'])
export class ExternalEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'PK_external_events_id' })
  id!: string;

  @Column('text')
  event!: string;

  @Column('jsonb')
  payload!: Record<string, unknown>;

  @Column('timestamptz', { default: () => 'now()' })
  received_at!: Date;

  @Column('timestamptz')
  keep_until!: Date;
}
