import type { OrchestratorClient } from '@orchestrator/client';
import { describe, expect, it } from 'vitest';
import { terminalSafe, terminalSafeClient, terminalSafeValue } from './terminal-safe.js';

const ATTACK = 'bad\u001b]0;owned\u0007\u001b[2J\r\u009b31m\u202eexe.txt\u007f';

describe('terminalSafe', () => {
  it('shows every control character as its escape, keeping newlines, tabs and other text', () => {
    expect(terminalSafe(ATTACK)).toBe('bad\\x1b]0;owned\\x07\\x1b[2J\\x0d\\x9b31m\\u202eexe.txt\\x7f');
    expect(terminalSafe('two\nlines\tand ünïcödé ✓')).toBe('two\nlines\tand ünïcödé ✓');
  });

  it('reaches every string and key of a value', () => {
    expect(terminalSafeValue({ error: ATTACK, result: { [`k\u001b`]: [ATTACK, 1, null, true] } })).toEqual({
      error: terminalSafe(ATTACK),
      result: { 'k\\x1b': [terminalSafe(ATTACK), 1, null, true] },
    });
  });

  it("cleans what the client's calls and streams give, and leaves the client otherwise alone", async () => {
    let closed = false;
    const raw = {
      get: (id: string) => Promise.resolve({ task_id: id, error: ATTACK }),
      stream: () => ({
        async *[Symbol.asyncIterator]() {
          yield await Promise.resolve({ id: 1, data: { message: ATTACK } });
        },
      }),
      close: () => {
        closed = true;
        return Promise.resolve();
      },
    };
    const client = terminalSafeClient(raw as unknown as OrchestratorClient);
    expect(await client.get('t-1')).toEqual({ task_id: 't-1', error: terminalSafe(ATTACK) });
    const events: unknown[] = [];
    for await (const event of client.stream({ taskId: 't-1' })) events.push(event);
    expect(events).toEqual([{ id: 1, data: { message: terminalSafe(ATTACK) } }]);
    await client.close();
    expect(closed).toBe(true);
  });
});
