import { TaskStatus, type StepWaitView } from '@orchestrator/contracts';
import type { TaskEntity } from '../persistence/task.entity.js';
import type { PlannedStep } from '../planning/plan.js';

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

/** What a `wait_for` or `sleep` step waits for, as the status view shows it; null for a step of another kind. */
export function stepWaitView(planned: PlannedStep | undefined, row: TaskEntity): StepWaitView | null {
  if (planned?.sleep) {
    const until = row.status === TaskStatus.Waiting ? iso(row.next_attempt_at) : typeof row.result?.['until'] === 'string' ? row.result['until'] : null;
    return { kind: 'sleep', until };
  }
  const wait = planned?.wait_for;
  if (!wait) return null;
  const until = row.status === TaskStatus.Waiting ? iso(row.deadline_at) : null;
  if (wait.signal !== undefined) return { kind: 'signal', signal: wait.signal, until, on_timeout: wait.on_timeout };
  return { kind: 'event', event: wait.event ?? '', match: wait.match ?? {}, until, on_timeout: wait.on_timeout };
}
