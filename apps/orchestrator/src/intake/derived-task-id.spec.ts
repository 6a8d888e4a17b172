import { describe, expect, it } from 'vitest';
import { derivedTaskId } from './derived-task-id.js';

const copy = { stream: 'ORCHESTRATOR_INTAKE', sequence: 41, storedAtNanos: 1_764_000_000_000_000_000 };

describe('derivedTaskId', () => {
  it('gives every delivery of one message the same id, shaped as a UUID', () => {
    expect(derivedTaskId(copy)).toBe(derivedTaskId({ ...copy }));
    expect(derivedTaskId(copy)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('tells apart another message, a sequence reused after the stream was made again, and another stream', () => {
    const ids = new Set([
      derivedTaskId(copy),
      derivedTaskId({ ...copy, sequence: 42 }),
      derivedTaskId({ ...copy, storedAtNanos: copy.storedAtNanos + 1_000_000 }),
      derivedTaskId({ ...copy, stream: 'OTHER' }),
    ]);
    expect(ids.size).toBe(4);
  });

  it('takes the Nats-Msg-Id over the place in the stream: the same id published again is the same task', () => {
    expect(derivedTaskId({ ...copy, msgId: 'order-7' })).toBe(derivedTaskId({ ...copy, sequence: 99, msgId: 'order-7' }));
    expect(derivedTaskId({ ...copy, msgId: 'order-7' })).not.toBe(derivedTaskId({ ...copy, msgId: 'order-8' }));
  });
});
