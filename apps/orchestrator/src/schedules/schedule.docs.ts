import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { OverlapPolicy, SCHEDULE_ID_PATTERN, SCHEDULE_LIMITS, TASK_TYPE_PATTERN, TaskPriority } from '@orchestrator/contracts';

/** The documented shapes of `/schedules` (the contract's types are in libs/contracts/src/schedule.ts). */
export class ScheduleRequestDoc {
  @ApiProperty({ pattern: SCHEDULE_ID_PATTERN.source, example: 'nightly-report', description: "Its runs' task_ids are sched:<schedule_id>:<tick in epoch ms>" })
  schedule_id!: string;

  @ApiProperty({ pattern: TASK_TYPE_PATTERN.source, example: 'create_blog_post', description: 'The workflow each run starts' })
  task_type!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { topic: 'Graphs' }, description: "Each run's payload, checked against the workflow's fields" })
  payload?: Record<string, unknown>;

  @ApiPropertyOptional({ example: '0 30 8 * * 1-5', description: 'Five fields, or six with seconds first, or @hourly, @daily…; give cron or every_ms' })
  cron?: string;

  @ApiPropertyOptional({ minimum: SCHEDULE_LIMITS.everyMs.min, maximum: SCHEDULE_LIMITS.everyMs.max, description: 'Ticks on the multiples of this many milliseconds since the epoch' })
  every_ms?: number;

  @ApiPropertyOptional({ example: 'Europe/Berlin', description: 'IANA time zone of the cron expression; default UTC' })
  timezone?: string;

  @ApiPropertyOptional({ enum: OverlapPolicy, default: OverlapPolicy.Skip, description: 'What a tick does while the last run still runs' })
  overlap?: OverlapPolicy;

  @ApiPropertyOptional({ minimum: SCHEDULE_LIMITS.catchupWindowMs.min, maximum: SCHEDULE_LIMITS.catchupWindowMs.max, default: SCHEDULE_LIMITS.catchupWindowMs.default, description: 'Ticks missed while no replica ran are caught up if no older than this' })
  catchup_window_ms?: number;

  @ApiPropertyOptional({ default: false })
  paused?: boolean;

  @ApiPropertyOptional({ enum: TaskPriority, default: TaskPriority.Normal })
  priority?: TaskPriority;
}

export class ScheduleRunDoc {
  @ApiProperty({ format: 'date-time' }) tick!: string;
  @ApiProperty({ example: 'sched:nightly-report:1893456000000' }) task_id!: string;
  @ApiProperty({ enum: ['scheduled', 'trigger', 'backfill'] }) kind!: string;
  @ApiProperty({ enum: ['started', 'skipped', 'buffered', 'failed'] }) outcome!: string;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ nullable: true, type: String, description: "The run's task status" }) status!: string | null;
  @ApiProperty({ format: 'date-time' }) at!: string;
}

export class ScheduleDoc extends ScheduleRequestDoc {
  @ApiProperty({ enum: ['api', 'file'] }) source!: string;
  @ApiProperty({ nullable: true, type: String }) file!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) next_fire_at!: string | null;
  @ApiProperty({ type: [String], description: 'The next five ticks; none while paused' }) next_fire_times!: string[];
  @ApiProperty({ nullable: true, type: ScheduleRunDoc }) last_run!: ScheduleRunDoc | null;
  @ApiProperty() fires!: number;
  @ApiProperty() skipped!: number;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
  @ApiPropertyOptional({ type: [ScheduleRunDoc], description: 'GET /schedules/:id: the last runs, newest first' }) last_runs?: ScheduleRunDoc[];
}

export class ScheduleListDoc {
  @ApiProperty({ type: [ScheduleDoc] }) items!: ScheduleDoc[];
}

export class ScheduleDeletedDoc {
  @ApiProperty() schedule_id!: string;
  @ApiProperty() deleted!: boolean;
}

export class TriggerReplyDoc {
  @ApiProperty() schedule_id!: string;
  @ApiProperty({ format: 'date-time' }) tick!: string;
  @ApiProperty({ example: 'sched:nightly-report:trigger:1893456000000' }) task_id!: string;
  @ApiProperty({ enum: ['started', 'skipped', 'buffered', 'failed'] }) outcome!: string;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
}

export class BackfillRequestDoc {
  @ApiProperty({ example: '2030-01-01T00:00:00Z', description: 'ISO 8601 or epoch milliseconds' }) from!: string;
  @ApiProperty({ example: '2030-01-02T00:00:00Z', description: 'ISO 8601 or epoch milliseconds; not in the future' }) to!: string;
}

export class BackfillReplyDoc {
  @ApiProperty() schedule_id!: string;
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
  @ApiProperty({ description: 'Ticks from `from` to `to`, both included' }) ticks!: number;
  @ApiProperty({ description: 'Ticks whose run this request started' }) started!: number;
  @ApiProperty({ description: 'Ticks that had run, or been asked for, before' }) already!: number;
  @ApiProperty({ type: [String] }) task_ids!: string[];
}
