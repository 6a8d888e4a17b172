import { HistoryKind, type HistoryEvent } from '@orchestrator/contracts';
import type { Colors } from '../output.js';
import { formatDuration } from './duration.js';

const str = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** What an event says beyond its kind, in words: its agent and attempt, the error, the steps planned, … */
export function eventDetail(event: HistoryEvent): string {
  const data = event.data ?? {};
  const parts: string[] = [];
  const has = (key: string): boolean => data[key] !== undefined && data[key] !== null;
  if (has('agent')) parts.push(str(data['agent']));
  if (has('attempt')) parts.push(`attempt ${str(data['attempt'])}`);
  if (has('status') && event.kind === HistoryKind.Answered) parts.push(str(data['status']));
  if (has('fraction')) parts.push(`${Math.round(Number(data['fraction']) * 100)}%${has('message') ? ` ${str(data['message'])}` : ''}`);
  if (has('backoff_ms')) parts.push(`in ${formatDuration(Number(data['backoff_ms']))}`);
  if (has('timeout_ms') && event.kind === HistoryKind.TimedOut) {
    parts.push(has('on_timeout') ? `nothing came in ${formatDuration(Number(data['timeout_ms']))}, ${str(data['on_timeout'])}` : `no answer in ${formatDuration(Number(data['timeout_ms']))}`);
  }
  parts.push(...waitDetail(event.kind, data));
  if (Array.isArray(data['steps'])) parts.push(`steps: ${(data['steps'] as unknown[]).map(str).join(', ')}`);
  if (has('items')) parts.push(`${str(data['items'])} items`);
  if (has('when')) parts.push(`when ${str(data['when'])} is false`);
  if (has('was')) parts.push(`was ${str(data['was'])}`);
  if (has('rerun_of')) parts.push(`rerun of ${str(data['rerun_of'])}`);
  if (has('not_before')) parts.push(`not before ${str(data['not_before'])}`);
  if (has('error')) parts.push(`error: ${str(data['error'])}`);
  return parts.join(', ');
}

/** What a step waits for, what came, and who sent it: the details of waits, signals, events and sleeps. */
function waitDetail(kind: HistoryKind, data: Record<string, unknown>): string[] {
  const parts: string[] = [];
  if (typeof data['signal'] === 'string') parts.push(`signal ${data['signal']}${typeof data['signal_id'] === 'string' ? ` (${data['signal_id']})` : ''}`);
  if (typeof data['event'] === 'string') parts.push(`event ${data['event']}${data['match'] !== undefined ? ` ${JSON.stringify(data['match'])}` : ''}`);
  if (typeof data['until'] === 'string') parts.push(`until ${data['until']}`);
  if (kind === HistoryKind.Waiting && typeof data['timeout_ms'] === 'number') parts.push(`times out in ${formatDuration(data['timeout_ms'])} (${str(data['on_timeout'])})`);
  if (typeof data['via'] === 'string') parts.push(`via ${data['via']}${typeof data['by'] === 'string' ? ` by ${data['by']}` : ''}`);
  if (data['kept'] === true) parts.push(kind === HistoryKind.SignalReceived ? 'kept for its step' : 'kept earlier');
  return parts;
}

/** `orchestrator events`: one line per event, with its time, kind, step and details. */
export function renderEventLine(event: HistoryEvent, colors: Colors): string {
  const kind = event.kind.padEnd(18);
  const styled = /failed|timed_out|retried/.test(event.kind) ? colors.red(kind) : event.kind === HistoryKind.Completed ? colors.green(kind) : kind;
  return `${colors.dim(event.at)}  ${styled}  ${(event.step_id ?? '-').padEnd(14)}  ${eventDetail(event)}`.trimEnd();
}
