import { headers } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
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
