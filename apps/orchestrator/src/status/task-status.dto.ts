import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEnum, IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { TASK_TYPE_PATTERN, TaskStatus, type TaskDetailView as TaskDetailWireView } from '@orchestrator/contracts';
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

/** The shapes clients read are the contract's; the plan here is the engine's own, narrower type. */
export type { SubTaskView, TaskListView, TaskSummaryView } from '@orchestrator/contracts';

export interface TaskDetailView extends TaskDetailWireView {
  plan: Plan | null;
  plan_history: ReplacedPlan[];
}
