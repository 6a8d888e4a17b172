import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEnum, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
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

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset: number = 0;
}

/** The shapes clients read are the contract's; the plan here is the engine's own, narrower type. */
export type { SubTaskView, TaskListView, TaskSummaryView } from '@orchestrator/contracts';

export interface TaskDetailView extends TaskDetailWireView {
  plan: Plan | null;
  plan_history: ReplacedPlan[];
}
