import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEnum, IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { TASK_TYPE_PATTERN, TaskStatus } from '@orchestrator/contracts';
import type { StepProgress } from '../persistence/task.entity.js';
import type { Plan, ReplacedPlan } from '../planning/plan.js';

export class ListTasksQuery {
  @ApiPropertyOptional({ enum: TaskStatus })
  @IsOptional()
  @IsEnum(TaskStatus, { message: `status must be one of ${Object.values(TaskStatus).join(', ')}` })
  status?: TaskStatus;

  @ApiPropertyOptional({ pattern: TASK_TYPE_PATTERN.source })
  @IsOptional()
  @Matches(TASK_TYPE_PATTERN, { message: `task_type must match ${TASK_TYPE_PATTERN.source}` })
  task_type?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  @ApiPropertyOptional({ description: "The previous page's next_cursor: the tasks after those" })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: "cursor must be a page's next_cursor" })
  cursor?: string;

  @ApiPropertyOptional({ description: 'true to count every task the filters match (a scan of them: ask only when needed)' })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'count must be true or false' })
  count?: 'true' | 'false';
}

export interface SubTaskView {
  step: string;
  task_type: string;
  agent: string | null;
  status: TaskStatus;
  depends_on: string[];
  attempts: number;
  max_attempts: number;
  /** What the step was sent (its plan's input, resolved); `{}` before it is sent; for a `for_each` step, `{ items: <count> }`. */
  input: Record<string, unknown>;
  started_at: string | null;
  completed_at: string | null;
  next_attempt_at: string | null;
  deadline_at: string | null;
  result: Record<string, unknown> | null;
  error: string | null;
  /** The latest progress its agent reported (of the attempt it names). */
  progress: StepProgress | null;
}

export interface TaskSummaryView {
  task_id: string;
  task_type: string;
  status: TaskStatus;
  priority: string;
  requester_id: string | null;
  progress: { done: number; total: number };
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  error: string | null;
}

export interface TaskDetailView extends TaskSummaryView {
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  workflow: { task_type: string; version: number } | null;
  /** The plan this workflow runs, as stored when it started. */
  plan: Plan | null;
  /** The plans the workflow ran before the planner revised them, oldest first; the last one's failure led to `plan`. */
  plan_history: ReplacedPlan[];
  steps: SubTaskView[];
}

export interface TaskListView {
  items: TaskSummaryView[];
  limit: number;
  /** Pass as `cursor` for the next page; null on the last one. */
  next_cursor: string | null;
  /** Only with `count=true`. */
  total?: number;
}
