import { useState, type FormEvent } from 'react';
import { TASK_STATUSES } from '../api/types';

/** The search parameters of GET /tasks this page keeps in its own URL, under the same names. */
export const SEARCH_PARAMS = ['status', 'task_type', 'requester_id', 'agent', 'error', 'created_after', 'created_before', 'finished_after', 'finished_before'] as const;
const TIMES = ['created_after', 'created_before', 'finished_after', 'finished_before'] as const;
export const PAYLOAD_PREFIX = 'payload.';

/** The server's search, as the URL of this page says it: its parameters and `payload.<field>` ones. */
export function searchOf(params: URLSearchParams): Record<string, string> {
  const search: Record<string, string> = {};
  for (const [name, value] of params) if (value !== '' && ((SEARCH_PARAMS as readonly string[]).includes(name) || name.startsWith(PAYLOAD_PREFIX))) search[name] = value;
  return search;
}

/** `customer=42, region.city=Paris` from the payload parameters, and back. */
function payloadText(search: Record<string, string>): string {
  return Object.entries(search)
    .filter(([name]) => name.startsWith(PAYLOAD_PREFIX))
    .map(([name, value]) => `${name.slice(PAYLOAD_PREFIX.length)}=${value}`)
    .join(', ');
}

function payloadParams(text: string): [string, string][] | string {
  const pairs: [string, string][] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const at = part.indexOf('=');
    if (at <= 0) return `payload: write field=value, e.g. customer=42 (not "${part}")`;
    pairs.push([`${PAYLOAD_PREFIX}${part.slice(0, at).trim()}`, part.slice(at + 1).trim()]);
  }
  return pairs;
}

/** An ISO time as a `datetime-local` input shows it (local time), and back. */
const toLocalInput = (iso: string | undefined): string => {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const fromLocalInput = (local: string): string => (local === '' ? '' : new Date(local).toISOString());

interface Props {
  search: Record<string, string>;
  taskTypes: readonly string[];
  agents: readonly string[];
  /** The whole search to apply (replacing the one in the URL). */
  onSearch: (search: Record<string, string>) => void;
}

/**
 * The filters of the task list, searched on the server. Choices (status, type, agent) apply at
 * once; text and times apply with Search (or Enter), so that typing sends no request per key.
 */
export function TaskFilters({ search, taskTypes, agents, onSearch }: Props) {
  const [draft, setDraft] = useState<Record<string, string>>(search);
  const [payload, setPayload] = useState(payloadText(search));
  const [problem, setProblem] = useState<string | null>(null);
  const [more, setMore] = useState(() => Object.keys(search).some((name) => name !== 'status' && name !== 'task_type'));
  const key = JSON.stringify(search);
  const [shown, setShown] = useState(key);
  if (shown !== key) {
    // The URL changed (back, a link, cleared): the form follows it.
    setShown(key);
    setDraft(search);
    setPayload(payloadText(search));
  }

  const apply = (next: Record<string, string>, payloadTextNow = payload) => {
    const pairs = payloadParams(payloadTextNow);
    if (typeof pairs === 'string') {
      setProblem(pairs);
      return;
    }
    setProblem(null);
    const kept = Object.fromEntries(Object.entries(next).filter(([name, value]) => value !== '' && !name.startsWith(PAYLOAD_PREFIX)));
    onSearch({ ...kept, ...Object.fromEntries(pairs) });
  };
  const choose = (name: string, value: string) => {
    const next = { ...draft, [name]: value };
    setDraft(next);
    apply(next);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    apply(draft);
  };
  const field = (name: string) => draft[name] ?? '';
  const type = (name: string, value: string) => setDraft((d) => ({ ...d, [name]: value }));
  const options = (list: readonly string[], current: string) => [...new Set([...list, ...(current ? [current] : [])])].sort();

  return (
    <form className="filters" onSubmit={submit} aria-label="search tasks">
      <label>
        status
        <select value={field('status').toUpperCase()} onChange={(e) => choose('status', e.target.value)} aria-label="status">
          <option value="">all</option>
          {TASK_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.toLowerCase()}
            </option>
          ))}
        </select>
      </label>
      <label>
        task type
        <select value={field('task_type')} onChange={(e) => choose('task_type', e.target.value)} aria-label="task type">
          <option value="">all</option>
          {options(taskTypes, field('task_type')).map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
      <label>
        agent
        <select value={field('agent')} onChange={(e) => choose('agent', e.target.value)} aria-label="agent">
          <option value="">any</option>
          {options(agents, field('agent')).map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </label>
      <label className="grow">
        error
        <input type="search" placeholder="text in the error (3 characters or more)" value={field('error')} onChange={(e) => type('error', e.target.value)} aria-label="error text" />
      </label>
      {more && (
        <>
          <label>
            requester
            <input value={field('requester_id')} onChange={(e) => type('requester_id', e.target.value)} aria-label="requester" placeholder="requester_id" />
          </label>
          <label className="grow">
            payload
            <input value={payload} onChange={(e) => setPayload(e.target.value)} aria-label="payload fields" placeholder="customer=42, region.city=Paris" />
          </label>
          {TIMES.map((name) => (
            <label key={name}>
              {name.replace('_', ' ')}
              <input type="datetime-local" value={toLocalInput(draft[name])} onChange={(e) => type(name, fromLocalInput(e.target.value))} aria-label={name.replace('_', ' ')} />
            </label>
          ))}
        </>
      )}
      <div className="filter-actions">
        <button type="submit" className="primary">
          Search
        </button>
        <button type="button" className="link" onClick={() => setMore((m) => !m)} aria-expanded={more}>
          {more ? 'fewer filters' : 'more filters'}
        </button>
      </div>
      {problem && (
        <div className="error-text" role="alert">
          {problem}
        </div>
      )}
    </form>
  );
}
