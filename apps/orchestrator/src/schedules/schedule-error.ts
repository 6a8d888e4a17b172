/** Why a request about a schedule failed: a stable code, mapped to an HTTP status at the edge, and a message naming the field or the reason. */
export type ScheduleErrorCode = 'INVALID_SCHEDULE' | 'SCHEDULE_NOT_FOUND' | 'SCHEDULE_EXISTS' | 'SCHEDULE_FROM_FILE' | 'OVERLOADED';

export class ScheduleError extends Error {
  constructor(
    readonly code: ScheduleErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ScheduleError';
  }
}
