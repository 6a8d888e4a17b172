import type { ErrorCode } from '@orchestrator/contracts';

/** Why a request about a schedule failed: a stable code, mapped to an HTTP status at the edge, and a message naming the field or the reason. */
export type ScheduleErrorCode = `${ErrorCode.InvalidSchedule | ErrorCode.ScheduleNotFound | ErrorCode.ScheduleExists | ErrorCode.ScheduleFromFile | ErrorCode.Overloaded}`;

export class ScheduleError extends Error {
  constructor(
    readonly code: ScheduleErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ScheduleError';
  }
}
