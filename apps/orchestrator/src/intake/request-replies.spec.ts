import { headers } from '@nats-io/transport-node';
import { describe, expect, it, vi } from 'vitest';
import { RequestReplies, requestKey } from './request-replies.js';

const message = (body: string, traceparent?: string): { data: Uint8Array; headers?: ReturnType<typeof headers> } => {
  const h = traceparent === undefined ? undefined : headers();
  if (h && traceparent !== undefined) h.set('traceparent', traceparent);
  return { data: new TextEncoder().encode(body), headers: h };
};

describe('RequestReplies', () => {
  it('gives each noted reply subject to one copy of the same content, in order, and none to other content', () => {
    const replies = new RequestReplies();
    replies.note(message('{"task_id":"a"}'), '_INBOX.1');
    replies.note(message('{"task_id":"a"}'), '_INBOX.2');
    expect(replies.take(message('{"task_id":"b"}'), 's:1')).toBeUndefined();
    expect(replies.take(message('{"task_id":"a"}'), 's:2')).toBe('_INBOX.1');
    expect(replies.take(message('{"task_id":"a"}'), 's:3')).toBe('_INBOX.2');
    expect(replies.take(message('{"task_id":"a"}'), 's:4')).toBeUndefined();
  });

  it('gives a copy taken before its request was noted the reply subject noted within the wait, and nothing after it', async () => {
    vi.useFakeTimers();
    try {
      const replies = new RequestReplies();
      const early = replies.takeOrWait(message('{"task_id":"a"}'), 's:1', 250);
      await vi.advanceTimersByTimeAsync(100);
      replies.note(message('{"task_id":"b"}'), '_INBOX.b');
      replies.note(message('{"task_id":"a"}'), '_INBOX.a');
      expect(await early).toBe('_INBOX.a');
      const none = replies.takeOrWait(message('{"task_id":"c"}'), 's:2', 250);
      await vi.advanceTimersByTimeAsync(250);
      expect(await none).toBeUndefined();
      replies.note(message('{"task_id":"c"}'), '_INBOX.c');
      // Noted too late for that copy: left for the next copy of the same content.
      expect(replies.take(message('{"task_id":"c"}'), 's:3')).toBe('_INBOX.c');
      expect(await replies.takeOrWait(message('{"task_id":"b"}'), 's:4', 250)).toBe('_INBOX.b');
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps a copy with its reply subject when it is delivered again, until it is forgotten', () => {
    const replies = new RequestReplies();
    replies.note(message('{"task_id":"a"}'), '_INBOX.1');
    expect(replies.take(message('{"task_id":"a"}'), 's:1')).toBe('_INBOX.1');
    expect(replies.take(message('{"task_id":"a"}'), 's:1')).toBe('_INBOX.1');
    replies.forget('s:1');
    expect(replies.take(message('{"task_id":"a"}'), 's:1')).toBeUndefined();
  });

  it('tells content apart by its headers too', () => {
    expect(requestKey(message('{}', '00-a-b-01'))).toBe(requestKey(message('{}', '00-a-b-01')));
    expect(requestKey(message('{}', '00-a-b-01'))).not.toBe(requestKey(message('{}', '00-c-d-01')));
    expect(requestKey(message('{}'))).not.toBe(requestKey(message('{ }')));
  });
});
