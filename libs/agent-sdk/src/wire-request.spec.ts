import { validateTaskRequest } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { readTaskRequest } from './wire-request.js';

const valid = { task_id: 'sub-1:1', task_type: 'generate_content' };

/** Requests the fast check takes, and ones it must leave to the contract's validation. */
const CASES: [string, unknown][] = [
  ['the least a request has', valid],
  [
    'every field, as the orchestrator sends a sub-task',
    { ...valid, payload: { topic: 't', nested: [1, { a: null }] }, priority: 'NORMAL', requester_id: 'orchestrator_agent', created_at: 1_764_000_000.123 },
  ],
  ['a priority in lower case', { ...valid, priority: 'critical' }],
  ['a timeout', { ...valid, timeout_ms: 100 }],
  ['the longest timeout', { ...valid, timeout_ms: 86_400_000 }],
  ['unknown fields', { ...valid, extra: { x: 1 } }],
  ['a budget', { ...valid, budget: { max_tokens: 10, other: 1 } }],
  ['a budget that is not one', { ...valid, budget: { max_tokens: -1 } }],
  ['a not_before', { ...valid, not_before: 5 }],
  ['a not_before in milliseconds', { ...valid, not_before: 1_764_000_000_000 }],
  ['a created_at of 0 and the largest', { ...valid, created_at: 0 }],
  ['created_at at its bound', { ...valid, created_at: 1e11 }],
  ['not an object', [valid]],
  ['null', null],
  ['no task_id', { task_type: 'x' }],
  ['a task_id with a space', { ...valid, task_id: 'a b' }],
  ['a task_id of 129 characters', { ...valid, task_id: 'x'.repeat(129) }],
  ['an empty task_id', { ...valid, task_id: '' }],
  ['a number for task_id', { ...valid, task_id: 7 }],
  ['a task_type in capitals', { ...valid, task_type: 'Generate' }],
  ['no task_type', { task_id: 'a' }],
  ['a payload that is a string', { ...valid, payload: 'text' }],
  ['a payload that is an array', { ...valid, payload: [1] }],
  ['a payload of null', { ...valid, payload: null }],
  ['an unknown priority', { ...valid, priority: 'urgent' }],
  ['a priority that is a number', { ...valid, priority: 1 }],
  ['a priority of null', { ...valid, priority: null }],
  ['a requester_id that is not an agent name', { ...valid, requester_id: 'a.b' }],
  ['a requester_id of null', { ...valid, requester_id: null }],
  ['created_at in milliseconds', { ...valid, created_at: 1_764_000_000_000 }],
  ['a negative created_at', { ...valid, created_at: -1 }],
  ['a created_at that is a string', { ...valid, created_at: '1' }],
  ['a timeout that is not an integer', { ...valid, timeout_ms: 100.5 }],
  ['a timeout under 100', { ...valid, timeout_ms: 99 }],
  ['a timeout over a day', { ...valid, timeout_ms: 86_400_001 }],
  ['a timeout of null', { ...valid, timeout_ms: null }],
];

describe('readTaskRequest', () => {
  it.each(CASES)('reads %s exactly as the contract validation does', (_what, body) => {
    expect(readTaskRequest(body)).toEqual(validateTaskRequest(body));
  });
});
