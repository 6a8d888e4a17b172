/**
 * What a database error says about the work that met it. A transient error (the connection, the
 * server shutting down or short of a resource, a serialization failure or a deadlock) says nothing
 * about the work: the same work succeeds once the database is back, so it is tried again later. Any
 * other error (a value the database refuses, a constraint) would meet the same work again: it is the
 * work's own.
 */
export type DatabaseTrouble = 'connection' | 'serialization' | 'deadlock' | 'shutdown' | 'resource';

/** Codes of node's sockets that mean the connection to the server failed. */
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN', 'EAI_AGAIN']);

/** How node-postgres and its pool say that a connection is gone, or could not be had. */
const CONNECTION_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error and is not queryable/,
  /^Client was closed and is not queryable/,
  /^Connection ended unexpectedly/,
  /^Query read timeout/,
];

interface ErrorFields {
  code?: unknown;
  message?: unknown;
  /** TypeORM wraps the driver's error. */
  driverError?: unknown;
  cause?: unknown;
}

/** The SQLSTATE of a server error, or the socket's code, of `error` or of the error it wraps. */
function codeOf(error: ErrorFields): string | null {
  for (const candidate of [error, error.driverError, error.cause]) {
    const code = (candidate as ErrorFields | undefined)?.code;
    if (typeof code === 'string') return code;
  }
  return null;
}

function messageOf(error: ErrorFields): string {
  for (const candidate of [error, error.driverError, error.cause]) {
    const message = (candidate as ErrorFields | undefined)?.message;
    if (typeof message === 'string' && message !== '') return message;
  }
  return '';
}

/** The kind of transient trouble `error` is, or null when it is the work's own (or not the database's). */
export function databaseTrouble(error: unknown): DatabaseTrouble | null {
  if (typeof error !== 'object' || error === null) return null;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const trouble = databaseTrouble(inner);
      if (trouble) return trouble;
    }
  }
  const fields = error as ErrorFields;
  const code = codeOf(fields);
  if (code !== null && SOCKET_CODES.has(code)) return 'connection';
  const state = sqlState(error);
  if (state !== null) return sqlStateTrouble(state);
  const message = messageOf(fields);
  return CONNECTION_MESSAGES.some((pattern) => pattern.test(message)) ? 'connection' : null;
}

function sqlStateTrouble(code: string): DatabaseTrouble | null {
  if (code.startsWith('08')) return 'connection';
  if (code === '40001') return 'serialization';
  if (code === '40P01') return 'deadlock';
  if (code === '57P01' || code === '57P02' || code === '57P03') return 'shutdown';
  if (code.startsWith('53')) return 'resource';
  return null;
}

/** The SQLSTATE of a server error (wrapped or not), or null. */
export function sqlState(error: unknown): string | null {
  if (typeof error !== 'object' || error === null) return null;
  const code = codeOf(error);
  return code !== null && !SOCKET_CODES.has(code) && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

/**
 * True when the server answered the statement with an error of its own (severity ERROR): the
 * transaction it ran in is rolled back, whatever followed it in the same script (a `COMMIT`
 * included) did not run. A lost connection or a FATAL leaves that unknown.
 */
export function isStatementError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { severity } = error as { severity?: unknown };
  return severity === 'ERROR' && databaseTrouble(error) !== 'connection';
}
