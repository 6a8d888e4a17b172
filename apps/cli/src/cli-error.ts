import { OrchestratorError } from '@orchestrator/client';

/** Exit statuses: 0 done (a watched task COMPLETED), 1 a failure, 2 a command line (or request) that is wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A command line that cannot be run as written: the message names the option or argument. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A command that ran and did not succeed, with the status to exit with (a watched task that ended
 * FAILED or CANCELLED): what to say was printed already.
 */
export class CommandFailed extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CommandFailed';
  }
}

/**
 * The status for an error: 2 for a usage error and for a request the orchestrator refused as
 * malformed (HTTP 400: the input given on the command line is wrong), 1 for everything else.
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT_USAGE;
  if (error instanceof CommandFailed) return error.exitCode;
  if (error instanceof OrchestratorError && error.status === 400) return EXIT_USAGE;
  return EXIT_FAILURE;
}

/** The lines that tell a person what went wrong: the server's message, then its field, code and HTTP status. */
export function describeError(error: unknown): string[] {
  if (error instanceof OrchestratorError) {
    const details = [
      error.field !== undefined ? `field: ${error.field}` : null,
      `code: ${error.code}`,
      error.status !== undefined ? `HTTP ${error.status}` : null,
      error.retryAfterMs !== undefined ? `retry after ${error.retryAfterMs} ms` : null,
    ].filter((part): part is string => part !== null);
    return [`error: ${error.message}`, `  ${details.join(', ')}`];
  }
  if (error instanceof Error) return [`error: ${error.message}`];
  return [`error: ${String(error)}`];
}
