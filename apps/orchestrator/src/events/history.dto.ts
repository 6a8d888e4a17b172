import { ApiPropertyOptional } from '@nestjs/swagger';
import { TASK_TYPE_PATTERN, TaskStatus } from '@orchestrator/contracts';
import { Type } from 'class-transformer';
import { IsEnum, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

export class EventPageQuery {
  @ApiPropertyOptional({ description: 'Events after this event id (the `next_after` of the page before)', minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'after must be an event id (an integer)' })
  @Min(0, { message: 'after must be 0 or more' })
  after: number = 0;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(1000, { message: 'limit must be at most 1000' })
  limit: number = 100;
}

export class WorkflowStreamQuery {
  @ApiPropertyOptional({ description: 'Start after this event id (default: the whole history); a Last-Event-ID header wins over it', minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'after must be an event id (an integer)' })
  @Min(0, { message: 'after must be 0 or more' })
  after?: number;

  @ApiPropertyOptional({ description: 'The API key, for clients that cannot set headers (a browser EventSource)' })
  @IsOptional()
  api_key?: string;
}

export class AllEventsStreamQuery {
  @ApiPropertyOptional({ pattern: TASK_TYPE_PATTERN.source })
  @IsOptional()
  @Matches(TASK_TYPE_PATTERN, { message: `task_type must match ${TASK_TYPE_PATTERN.source}` })
  task_type?: string;

  @ApiPropertyOptional({ enum: TaskStatus, description: "The workflow's status once the event was committed" })
  @IsOptional()
  @IsEnum(TaskStatus, { message: `status must be one of ${Object.values(TaskStatus).join(', ')}` })
  status?: TaskStatus;

  @ApiPropertyOptional({ description: 'The API key, for clients that cannot set headers (a browser EventSource)' })
  @IsOptional()
  api_key?: string;
}
