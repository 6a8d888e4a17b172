import {
  AGENT_NAME_PATTERN,
  isPlainObject,
  TASK_ID_PATTERN,
  TASK_TYPE_PATTERN,
  TaskPriority,
  validateTaskRequest,
  type TaskRequest,
  type Validated,
} from '@orchestrator/contracts';

const PRIORITIES = new Set<string>(Object.values(TaskPriority));

const optional = (value: unknown, valid: (value: unknown) => boolean): boolean => value === undefined || valid(value);

/**
 * `body` as a TaskRequest, checked field by field as the contract's validation would accept it
 * (`validateTaskRequest`, a class-validator DTO). That validation costs more than the rest of a
 * sub-task's handling, so a request whose every field is plainly right is taken here; anything
 * else (a missing or wrong field, a `null` where a field may be absent) goes to the contract's
 * validation, which decides and names what is wrong. So does a request with a `budget` or a
 * `not_before`: a sub-task has neither.
 */
export function readTaskRequest(body: unknown): Validated<TaskRequest> {
  return plainlyValid(body) ?? validateTaskRequest(body);
}

function plainlyValid(body: unknown): Validated<TaskRequest> | undefined {
  if (!isPlainObject(body)) return undefined;
  const { task_id, task_type, payload, priority, requester_id, created_at, timeout_ms, budget, not_before } = body;
  const upperPriority = typeof priority === 'string' ? priority.toUpperCase() : priority;
  const plain =
    budget === undefined &&
    not_before === undefined &&
    typeof task_id === 'string' &&
    TASK_ID_PATTERN.test(task_id) &&
    typeof task_type === 'string' &&
    TASK_TYPE_PATTERN.test(task_type) &&
    optional(payload, isPlainObject) &&
    optional(upperPriority, (p) => typeof p === 'string' && PRIORITIES.has(p)) &&
    optional(requester_id, (r) => typeof r === 'string' && AGENT_NAME_PATTERN.test(r)) &&
    optional(created_at, (c) => typeof c === 'number' && Number.isFinite(c) && c >= 0 && c <= 1e11) &&
    optional(timeout_ms, (t) => typeof t === 'number' && Number.isInteger(t) && t >= 100 && t <= 86_400_000);
  if (!plain) return undefined;
  const request: TaskRequest = {
    task_id,
    task_type,
    payload: (payload as Record<string, unknown> | undefined) ?? {},
    priority: (upperPriority as TaskPriority | undefined) ?? TaskPriority.Normal,
  };
  if (requester_id !== undefined) request.requester_id = requester_id as string;
  if (created_at !== undefined) request.created_at = created_at as number;
  if (timeout_ms !== undefined) request.timeout_ms = timeout_ms as number;
  return { ok: true, value: request };
}
