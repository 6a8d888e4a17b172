import {
  IsDefined,
  IsEnum,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';
import { TaskPriority } from './enums.js';
import { BUDGET_FIELDS, type Budget } from './usage.js';
import { AGENT_NAME_PATTERN, TASK_ID_PATTERN, TASK_TYPE_PATTERN } from './names.js';
import { isPlainObject, validateInto, type Validated } from './validation.js';

/** A request to perform `task_type` (CONTRACT.md, TaskRequest). */
export class TaskRequestDto {
  /** Optional where the receiver makes one up (see validateTaskRequest); when given, null included, it must be one. */
  @ValidateIf((_dto, value) => value !== undefined)
  @Matches(TASK_ID_PATTERN, { message: 'must be 1 to 128 characters without whitespace' })
  @IsString({ message: 'must be a string' })
  task_id?: string;

  @Matches(TASK_TYPE_PATTERN, { message: `must match ${TASK_TYPE_PATTERN.source}` })
  @IsString({ message: 'must be a string' })
  @IsDefined({ message: 'is required' })
  task_type!: string;

  @IsOptional()
  @IsObject({ message: 'must be a JSON object' })
  payload?: Record<string, unknown>;

  @IsOptional()
  @IsEnum(TaskPriority, { message: `must be one of ${Object.values(TaskPriority).join(', ')}` })
  priority?: TaskPriority;

  @IsOptional()
  @Matches(AGENT_NAME_PATTERN, { message: `must be an agent name matching ${AGENT_NAME_PATTERN.source}` })
  @IsString({ message: 'must be a string' })
  requester_id?: string;

  @IsOptional()
  @Max(1e11, { message: 'must be seconds since the epoch, not milliseconds' })
  @Min(0, { message: 'must not be negative' })
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number of seconds since the epoch' })
  created_at?: number;

  /** Optional: the whole task must finish within this time, or it fails. */
  @IsOptional()
  @Max(86_400_000, { message: 'must be at most 86400000 (one day)' })
  @Min(100, { message: 'must be at least 100' })
  @IsInt({ message: 'must be an integer number of milliseconds' })
  timeout_ms?: number;

  /** Optional: what the task may spend in all (`max_tokens`, `max_cost`), within the orchestrator's maximum. */
  @IsOptional()
  @IsObject({ message: 'must be an object with max_tokens or max_cost' })
  budget?: Budget;

  /** Optional: store the task now, start its workflow at this time (seconds since the epoch); in the past, it starts at once. */
  @IsOptional()
  @Max(1e11, { message: 'must be seconds since the epoch, not milliseconds' })
  @Min(0, { message: 'must not be negative' })
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number of seconds since the epoch' })
  not_before?: number;
}

/** A TaskRequest after validation, with its defaults applied. */
export interface TaskRequest {
  task_id: string;
  task_type: string;
  payload: Record<string, unknown>;
  priority: TaskPriority;
  requester_id?: string;
  created_at?: number;
  timeout_ms?: number;
  budget?: Budget;
  not_before?: number;
}

/** A request's `budget`: known fields non-negative numbers, at least one of them. */
function budgetProblem(budget: Record<string, unknown>): string | null {
  const given = BUDGET_FIELDS.filter((field) => budget[field] !== undefined);
  if (given.length === 0) return `budget: must have ${BUDGET_FIELDS.join(' or ')}`;
  for (const field of given) {
    const value = budget[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return `budget.${field}: must be a non-negative number`;
  }
  return null;
}

/**
 * A TaskRequest from what came, or the error naming every wrong field. `makeTaskId`: a request
 * without a `task_id` gets one from it (the orchestrator's intake); without it, one is required
 * (an agent's sub-tasks always have one).
 */
export function validateTaskRequest(input: unknown, makeTaskId?: () => string): Validated<TaskRequest> {
  const normalized =
    isPlainObject(input) && typeof input['priority'] === 'string'
      ? { ...input, priority: input['priority'].toUpperCase() }
      : input;
  const result = validateInto(TaskRequestDto, normalized, 'request');
  if (!result.ok) return result;
  const dto = result.value;
  const taskId = dto.task_id ?? makeTaskId?.();
  if (taskId === undefined) return { ok: false, error: 'task_id: is required' };
  const request: TaskRequest = {
    task_id: taskId,
    task_type: dto.task_type,
    payload: dto.payload ?? {},
    priority: dto.priority ?? TaskPriority.Normal,
  };
  if (dto.requester_id !== undefined) request.requester_id = dto.requester_id;
  if (dto.created_at !== undefined) request.created_at = dto.created_at;
  if (dto.timeout_ms !== undefined) request.timeout_ms = dto.timeout_ms;
  if (dto.budget !== undefined) {
    const problem = budgetProblem(dto.budget as Record<string, unknown>);
    if (problem) return { ok: false, error: problem };
    request.budget = Object.fromEntries(BUDGET_FIELDS.flatMap((field) => (dto.budget?.[field] === undefined ? [] : [[field, dto.budget[field]]])));
  }
  if (dto.not_before !== undefined) request.not_before = dto.not_before;
  return { ok: true, value: request };
}
