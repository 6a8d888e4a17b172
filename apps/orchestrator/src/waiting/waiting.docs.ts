import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SignalStatus } from '@orchestrator/contracts';

/** The documented shapes of the routes of signals, external events and approvals. */
export class SignalReplyDoc {
  @ApiProperty({ example: 'post-1' }) task_id!: string;
  @ApiProperty({ example: 'approval' }) signal!: string;
  @ApiProperty({ enum: SignalStatus }) status!: SignalStatus;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiPropertyOptional({ description: "A refusal's code (over NATS; HTTP answers a refusal with an error body)" }) code?: string;
  @ApiPropertyOptional({ enum: ['delivered', 'kept'], description: 'A waiting step took it now, or it is kept for the step that will wait for it' }) outcome?: string;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'The step it was given to' }) step?: string | null;
  @ApiPropertyOptional({ description: 'Its signal_id was taken before: nothing changed' }) duplicate?: boolean;
}

export class ExternalEventReplyDoc {
  @ApiProperty({ example: 'payment.received' }) event!: string;
  @ApiProperty({ description: 'Waiting steps the event matched and resumed' }) resumed!: number;
  @ApiProperty({ description: 'Kept for steps that start later (a step waiting for it has lookback_ms)' }) kept!: boolean;
}

export class ApprovalDoc {
  @ApiProperty() task_id!: string;
  @ApiProperty() task_type!: string;
  @ApiProperty() step!: string;
  @ApiProperty({ example: 'approval' }) signal!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: "What the step shows: its input, resolved" }) input!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: "The fields the signal's payload may have" }) payload!: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) waiting_since!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) deadline_at!: string | null;
  @ApiProperty({ enum: ['fail', 'skip', 'continue'] }) on_timeout!: string;
}

export class ApprovalListDoc {
  @ApiProperty({ type: [ApprovalDoc] }) items!: ApprovalDoc[];
  @ApiProperty() limit!: number;
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}
