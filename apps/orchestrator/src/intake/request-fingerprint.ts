import { createHash } from 'node:crypto';
import type { TaskRequest } from '@orchestrator/contracts';

/** JSON with object keys in order, so that equal values give equal text whatever order their keys came in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What makes two requests with one `task_id` the same request: its task_type, payload, priority
 * and requester, hashed. A repeat of the same request gets the task's state; another request under
 * a `task_id` in use is refused.
 */
export function requestFingerprint(request: TaskRequest): string {
  const { task_type, payload, priority } = request;
  return createHash('sha256')
    .update(canonical({ task_type, payload, priority, requester_id: request.requester_id ?? null }))
    .digest('base64url');
}
