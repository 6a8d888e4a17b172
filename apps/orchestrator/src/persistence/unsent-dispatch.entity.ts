import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A sub-task attempt committed and not yet known to be published: inserted by the transaction
 * that dispatches it, deleted once its message has reached NATS. One that stays past
 * DISPATCH_RESEND_AFTER_MS is published again (same id) by any replica.
 */
@Entity({ name: 'unsent_dispatches' })
@Index('unsent_dispatches_since_idx', ['since'])
export class UnsentDispatchEntity {
  /** The row (`tasks.id`) the attempt belongs to; no foreign key: retention deletes workflows apart. */
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'PK_unsent_dispatches' })
  row_id!: string;

  @PrimaryColumn('integer', { primaryKeyConstraintName: 'PK_unsent_dispatches' })
  attempt!: number;

  @Column('timestamptz', { default: () => 'clock_timestamp()' })
  since!: Date;
}
