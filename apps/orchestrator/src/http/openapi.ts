import { type INestApplication } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AGENT_NAME_PATTERN, HistoryKind, TASK_TYPE_PATTERN, TaskPriority, TaskStatus } from '@orchestrator/contracts';

export class BudgetDoc {
  @ApiPropertyOptional({ minimum: 0, description: 'Tokens in all (tokens, or input_tokens + output_tokens, of each answer)' }) max_tokens?: number;
  @ApiPropertyOptional({ minimum: 0, description: 'Cost in all, in the unit agents report it in' }) max_cost?: number;
}

export class UsageDoc {
  @ApiPropertyOptional({ minimum: 0 }) tokens?: number;
  @ApiPropertyOptional({ minimum: 0 }) input_tokens?: number;
  @ApiPropertyOptional({ minimum: 0 }) output_tokens?: number;
  @ApiPropertyOptional({ minimum: 0 }) cost?: number;
}

/** The documented shapes of the HTTP API (the wire contract's TaskRequest and the status views). */
export class TaskRequestDoc {
  @ApiProperty({ description: 'Unique id; the same task_id again returns the existing task', minLength: 1, maxLength: 128, pattern: '^\\S+$', example: 'post-1' })
  task_id!: string;

  @ApiProperty({ description: 'The operation: a workflow file of the same name', pattern: TASK_TYPE_PATTERN.source, example: 'create_blog_post' })
  task_type!: string;

  @ApiPropertyOptional({ description: 'Input data, checked against the fields the workflow declares', type: 'object', additionalProperties: true, example: { topic: 'Graphs' } })
  payload?: Record<string, unknown>;

  @ApiPropertyOptional({ enum: TaskPriority, description: 'Case-insensitive; default NORMAL' })
  priority?: TaskPriority;

  @ApiPropertyOptional({ description: 'Agent name; the final response is also published on agent.<requester_id>.response', pattern: AGENT_NAME_PATTERN.source })
  requester_id?: string;

  @ApiPropertyOptional({ description: 'Seconds since the epoch' })
  created_at?: number;

  @ApiPropertyOptional({ description: 'The whole task must finish within this many milliseconds', minimum: 100, maximum: 86_400_000 })
  timeout_ms?: number;

  @ApiPropertyOptional({ type: () => BudgetDoc, description: "What the task may spend; within BUDGET_MAX_TOKENS / BUDGET_MAX_COST; the workflow file's budget, if lower, wins" })
  budget?: BudgetDoc;

  @ApiPropertyOptional({ description: 'Seconds since the epoch: the task is stored now (PENDING) and its workflow starts then', minimum: 0 })
  not_before?: number;
}

export class SubmitTaskReplyDoc {
  @ApiProperty() task_id!: string;
  @ApiProperty({ enum: TaskStatus }) status!: TaskStatus;
  @ApiProperty({ example: { self: '/tasks/post-1' } }) links!: { self: string };
}

export class ErrorDoc {
  @ApiProperty({ example: 'INVALID_REQUEST' }) code!: string;
  @ApiProperty({ example: 'payload.topic: is required' }) message!: string;
}

export class SubTaskDoc {
  @ApiProperty() step!: string;
  @ApiProperty() task_type!: string;
  @ApiProperty({ nullable: true, type: String }) agent!: string | null;
  @ApiProperty({ enum: TaskStatus }) status!: TaskStatus;
  @ApiProperty({ type: [String] }) depends_on!: string[];
  @ApiProperty() attempts!: number;
  @ApiProperty() max_attempts!: number;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'What the step was sent; {} before it is sent' }) input!: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) started_at!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) completed_at!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) next_attempt_at!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) deadline_at!: string | null;
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true }) result!: Record<string, unknown> | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty({ nullable: true, type: () => StepProgressDoc, description: 'The latest progress its agent reported' }) progress!: StepProgressDoc | null;
  @ApiProperty({ nullable: true, type: () => UsageDoc, description: "What its agent reported it cost (a for_each step's: its items'; a workflow: step's: its child's)" }) usage!: UsageDoc | null;
  @ApiPropertyOptional({ nullable: true, type: () => StepWaitDoc, description: 'What a wait_for or sleep step waits for; null for other steps' }) wait?: StepWaitDoc | null;
}

export class StepWaitDoc {
  @ApiProperty({ enum: ['signal', 'event', 'sleep'] }) kind!: string;
  @ApiPropertyOptional({ description: "The signal's name" }) signal?: string;
  @ApiPropertyOptional({ description: "The event's name" }) event?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'The fields the event must have' }) match?: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'When a sleep ends or a wait times out; null when it waits until cancelled' }) until!: string | null;
  @ApiPropertyOptional({ enum: ['fail', 'skip', 'continue'] }) on_timeout?: string;
}

export class StepProgressDoc {
  @ApiProperty({ minimum: 0, maximum: 1 }) fraction!: number;
  @ApiProperty({ nullable: true, type: String }) message!: string | null;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ description: 'The attempt it was reported for' }) attempt!: number;
}

export class ProgressDoc {
  @ApiProperty() done!: number;
  @ApiProperty() total!: number;
}

export class TaskSummaryDoc {
  @ApiProperty() task_id!: string;
  @ApiProperty() task_type!: string;
  @ApiProperty({ enum: TaskStatus }) status!: TaskStatus;
  @ApiProperty({ enum: TaskPriority }) priority!: TaskPriority;
  @ApiProperty({ nullable: true, type: String }) requester_id!: string | null;
  @ApiProperty({ type: ProgressDoc }) progress!: ProgressDoc;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) started_at!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) completed_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'A delayed task: when it starts (PENDING until then)' }) not_before!: string | null;
}

export class TaskDetailDoc extends TaskSummaryDoc {
  @ApiProperty({ type: 'object', additionalProperties: true }) payload!: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true, description: '{ output, steps } when completed' })
  result!: Record<string, unknown> | null;
  @ApiProperty({ nullable: true, example: { task_type: 'create_blog_post', version: 1 } }) workflow!: { task_type: string; version: number } | null;
  @ApiProperty({ type: [SubTaskDoc] }) steps!: SubTaskDoc[];
  @ApiProperty({ nullable: true, type: () => UsageDoc, description: 'What the whole workflow cost so far, child workflows included' }) usage!: UsageDoc | null;
  @ApiProperty({ nullable: true, type: () => BudgetDoc, description: 'What it may spend; null: no limit' }) budget!: BudgetDoc | null;
}

export class TaskListDoc {
  @ApiProperty({ type: [TaskSummaryDoc] }) items!: TaskSummaryDoc[];
  @ApiProperty() limit!: number;
  @ApiProperty({ nullable: true, type: String, description: "the next page's cursor; null on the last page" }) next_cursor!: string | null;
  @ApiPropertyOptional({ description: 'every task the filters match; only with count=true' }) total?: number;
}

export class HistoryEventDoc {
  @ApiProperty({ description: 'Increasing; in one workflow, in the order of commits' }) id!: number;
  @ApiProperty() task_id!: string;
  @ApiProperty() task_type!: string;
  @ApiProperty({ nullable: true, type: String, description: 'The step (or item, step[i]) it is about; null for the workflow' }) step_id!: string | null;
  @ApiProperty({ enum: HistoryKind }) kind!: HistoryKind;
  @ApiProperty({ enum: TaskStatus, description: "The workflow's status once the event was committed" }) status!: TaskStatus;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true, example: { agent: 'llm_agent', attempt: 1 } }) data!: Record<string, unknown> | null;
}

export class EventPageDoc {
  @ApiProperty({ type: [HistoryEventDoc] }) items!: HistoryEventDoc[];
  @ApiProperty({ nullable: true, type: Number, description: 'Pass as `after` for the next page; null on the last page' }) next_after!: number | null;
}

/** What a stream route sends: Server-Sent Events whose `data` is one history event (HistoryEventDoc). */
export const EVENT_STREAM_SCHEMA = {
  type: 'string',
  description: 'text/event-stream: for each event, `id: <id>`, `event: <kind>`, `data: <HistoryEvent as JSON>`; comments keep the connection alive',
  example: 'id: 42\nevent: step_dispatched\ndata: {"id":42,"task_id":"post-1","kind":"step_dispatched",...}\n\n',
} as const;

export class AgentLoadDoc {
  @ApiProperty({ pattern: AGENT_NAME_PATTERN.source }) name!: string;
  @ApiProperty({ type: [String] }) capabilities!: string[];
  @ApiProperty({ description: 'Declared in STATIC_AGENTS or found in Consul: live without heartbeats' }) static!: boolean;
  @ApiProperty({ nullable: true, type: Number, description: "Sum of the live instances' max_concurrency; null when unknown" }) capacity!: number | null;
  @ApiProperty({ description: "Sum of the live instances' reported in_flight" }) reported_in_flight!: number;
  @ApiProperty({ description: 'Sub-tasks the orchestrator has in flight on this agent (all replicas)' }) in_flight!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'What the router ranks by: in flight over capacity' }) load!: number | null;
  @ApiProperty({
    nullable: true,
    type: 'object',
    properties: { limit: { type: 'integer' }, per: { type: 'string', enum: ['second', 'minute', 'hour'] } },
    description: 'From AGENT_RATE_LIMITS, else the tightest its instances announce; null: none',
  })
  rate_limit!: { limit: number; per: string } | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Sub-tasks its rate limit takes now (all replicas); null without one' }) rate_headroom!: number | null;
  @ApiProperty({ description: 'Steps waiting for a free slot on it' }) waiting!: number;
  @ApiProperty({
    type: 'array',
    items: {
      type: 'object',
      properties: {
        instance_id: { type: 'string' },
        agent_type: { type: 'string' },
        capabilities: { type: 'array', items: { type: 'string' } },
        load: { type: 'object', nullable: true, properties: { in_flight: { type: 'integer' }, max_concurrency: { type: 'integer' } } },
        last_seen: { type: 'string', format: 'date-time' },
      },
    },
  })
  instances!: unknown[];
}

export class AgentListDoc {
  @ApiProperty({ type: [AgentLoadDoc] }) items!: AgentLoadDoc[];
}

export class WorkflowSummaryDoc {
  @ApiProperty({ pattern: TASK_TYPE_PATTERN.source }) task_type!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty({ enum: ['fixed', 'dynamic'], description: '`dynamic`: planned per request by the planner agent' }) plan!: 'fixed' | 'dynamic';
  @ApiProperty({
    type: 'array',
    items: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        agent: { type: 'string', nullable: true },
        capability: { type: 'string', nullable: true },
        task_type: { type: 'string' },
        depends_on: { type: 'array', items: { type: 'string' } },
      },
    },
  })
  steps!: unknown[];
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The fields the payload may or must have' }) payload!: Record<string, unknown>;
}

export class WorkflowListDoc {
  @ApiProperty({ type: [WorkflowSummaryDoc] }) items!: WorkflowSummaryDoc[];
}

export class ReplicaStatusDoc {
  @ApiProperty() replica_id!: string;
  @ApiProperty({ format: 'date-time' }) started_at!: string;
  @ApiProperty() workflows_started!: number;
  @ApiProperty() workflows_finished!: number;
  @ApiProperty() subtasks_dispatched!: number;
  @ApiProperty() responses_applied!: number;
  @ApiProperty() responses_dropped!: number;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The settings Consul may change while the service runs, as in force now' })
  settings!: Record<string, unknown>;
}

/** Serves the OpenAPI document at /docs (and /docs-json). */
export function setUpOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('orchestrator_agent')
    .setDescription('HTTP API of the orchestrator: submit tasks, follow them, cancel them; agents; health; metrics.')
    .setVersion('0.1.0')
    .addApiKey({ type: 'apiKey', name: 'X-API-Key', in: 'header' }, 'api-key')
    .addSecurityRequirements('api-key')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config));
}
