import { describe, expect, it } from 'vitest';
import { parseBody } from './inbound-message.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('parseBody', () => {
  it('parses a JSON body as it is, whatever its keys', () => {
    expect(parseBody(bytes('{"pattern":"x","data":{"a":1},"id":"7"}'), 1024)).toEqual({
      ok: true,
      value: { pattern: 'x', data: { a: 1 }, id: '7' },
    });
  });

  it('says why a body is not JSON', () => {
    const parsed = parseBody(bytes('{"task_id":'), 1024);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(/^message: is not valid JSON \(/);
  });

  it('refuses a body over the limit before parsing it', () => {
    expect(parseBody(bytes(`"${'x'.repeat(100)}"`), 50)).toEqual({
      ok: false,
      error: 'message: 102 bytes exceeds the limit of 50 bytes',
      tooLarge: true,
    });
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(parseBody(new Uint8Array([0x7b, 0xff, 0x7d]), 1024)).toEqual({ ok: false, error: 'message: is not valid UTF-8' });
  });
});
