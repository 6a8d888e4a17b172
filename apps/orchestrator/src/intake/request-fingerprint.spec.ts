import { TaskPriority } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { requestFingerprint } from './request-fingerprint.js';

const request = { task_id: 't', task_type: 'x', payload: { a: 1, b: { c: [1, 2], d: 'e' } }, priority: TaskPriority.Normal };

describe('requestFingerprint', () => {
  it('is the same for the same request, whatever the order of its keys or its task_id', () => {
    const reordered = { ...request, task_id: 'other', payload: { b: { d: 'e', c: [1, 2] }, a: 1 } };
    expect(requestFingerprint(reordered)).toBe(requestFingerprint(request));
  });

  it.each([
    ['task_type', { ...request, task_type: 'y' }],
    ['payload', { ...request, payload: { a: 2, b: { c: [1, 2], d: 'e' } } }],
    ['order of a list', { ...request, payload: { a: 1, b: { c: [2, 1], d: 'e' } } }],
    ['priority', { ...request, priority: TaskPriority.High }],
    ['requester', { ...request, requester_id: 'someone' }],
  ])('differs when the %s differs', (_what, other) => {
    expect(requestFingerprint(other)).not.toBe(requestFingerprint(request));
  });
});
