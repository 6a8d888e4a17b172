import type { LoggerService, LogLevel } from '@nestjs/common';
import { pino, type DestinationStream, type Level, type Logger, type LoggerOptions } from 'pino';
import { logContext } from './log-context.js';

const LEVELS: Record<LogLevel, Level> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** No message is logged whole past this: an agent's error text or an input could be anything. */
const MAX_MESSAGE = 2_000;

/** An API key given in a URL's query (`?api_key=`, as event streams take it), wherever a line quotes the URL. */
const KEY_IN_QUERY = /([?&;]api[_-]?key=)[^&\s#"']*/gi;

/** `text` with any API key in a URL query replaced: no log line holds one, whoever wrote it. */
export function withoutKeys(text: string): string {
  return text.replace(KEY_IN_QUERY, '$1[redacted]');
}

/** Fields never logged, at any depth, whether pino merges them into the line or they come in an object logged as the message. */
const REDACTED = ['payload', 'result', 'authorization', 'password', 'token', 'api_key'];
const CENSOR = '[redacted]';

/**
 * Nest's logger as JSON lines (pino): level, time, replica, the Nest context, the workflow's
 * task_id when the line is about one, and the message. Payloads, results and secrets are redacted.
 */
export class PinoLogger implements LoggerService {
  private readonly pino: Logger;

  /** `destination`: where the lines go, stdout unless given (a test reads them). */
  constructor(level: LogLevel, replicaId: string, destination?: DestinationStream) {
    const options: LoggerOptions = {
      level: LEVELS[level],
      base: { service: 'orchestrator_agent', replica: replicaId },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED.flatMap((field) => [field, `*.${field}`]), censor: CENSOR },
    };
    this.pino = destination ? pino(options, destination) : pino(options);
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /** Nest passes the context (the class name) last, and for errors a stack before it. */
  private write(level: Level, message: unknown, rest: unknown[]): void {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const stack = level === 'error' && rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
    const text = message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(redact(message));
    this.pino[level](
      { context, ...logContext.getStore(), ...(stack ? { stack: truncate(withoutKeys(stack)) } : {}) },
      truncate(withoutKeys(text ?? '')),
    );
  }
}

/** A copy of a value logged as the message with the fields that must never be logged censored, at any depth. */
function redact(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth > 20) return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, REDACTED.includes(key.toLowerCase()) ? CENSOR : redact(item, depth + 1)]));
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}… (${text.length} characters)` : text;
}
