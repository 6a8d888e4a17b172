import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A cancel that came for a child workflow before its root existed (its `workflow:` step's sub-task
 * was cancelled while the child was being started): the child starts cancelled and deletes it.
 */
@Entity({ name: 'early_cancels' })
@Index('early_cancels_requested_idx', ['requested_at'])
export class EarlyCancelEntity {
  /** The child's task_id: the sub-task id of the step that starts it. */
  @PrimaryColumn('text', { primaryKeyConstraintName: 'PK_early_cancels' })
  task_id!: string;

  @Column('timestamptz', { default: () => 'now()' })
  requested_at!: Date;
}
