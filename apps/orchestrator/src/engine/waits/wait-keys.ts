import { createHash } from 'node:crypto';
import { isPlainObject } from '@orchestrator/contracts';

/**
 * What a WAITING row waits for, as its `wait_key` (indexed among waiting rows): `signal:<name>` for
 * a signal, `event:` and a hash of the event's name and the values it must match for an event. An
 * event is hashed the same way on each set of fields steps match it on (`event_shapes`), so that
 * the steps it resumes are found by index, however many wait.
 */
export function signalWaitKey(signal: string): string {
  return `signal:${signal}`;
}

/** The prefix of the keys of rows waiting for a signal. */
export const SIGNAL_WAIT_PREFIX = 'signal:';

export function eventWaitKey(event: string, match: Record<string, unknown>): string {
  const fields = Object.keys(match).sort().map((key) => [key, canonical(match[key])]);
  return `event:${createHash('sha256').update(JSON.stringify([event, fields])).digest('base64url')}`;
}

/** The fields a step matches on, sorted: its shape, under which its events are hashed. */
export function shapeOf(match: Record<string, unknown> | undefined): string[] {
  return Object.keys(match ?? {}).sort();
}

/** The event's values for a shape, or null when it lacks one of its fields. */
export function valuesFor(event: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> | null {
  const values: Record<string, unknown> = {};
  for (const key of keys) {
    if (!Object.hasOwn(event, key)) return null;
    values[key] = event[key];
  }
  return values;
}

/** True when each of `match`'s fields equals the event's field of that name. */
export function matches(match: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.keys(match).every((key) => Object.hasOwn(event, key) && JSON.stringify(canonical(event[key])) === JSON.stringify(canonical(match[key])));
}

/** A JSON value with its objects' keys in order: equal values hash alike however their fields were written. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isPlainObject(value)) return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical(value[key])]));
  return value === undefined ? null : value;
}
