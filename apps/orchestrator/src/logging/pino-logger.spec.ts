import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { inTaskContext } from './log-context.js';
import { PinoLogger, withoutKeys } from './pino-logger.js';

/** A logger writing to memory; its lines parsed. */
function logger(level: 'log' | 'warn' = 'log'): { log: PinoLogger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const log = new PinoLogger(level, 'replica-1', sink);
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { log, lines };
}

describe('PinoLogger', () => {
  it("writes JSON lines with the level, the replica, the Nest context and the workflow's task_id", () => {
    const { log, lines } = logger();
    log.log('plain', 'SomeService');
    inTaskContext('task-7', () => log.warn('about a workflow', 'Engine'));
    log.debug('below the level', 'SomeService');
    expect(lines()).toEqual([
      expect.objectContaining({ level: 30, service: 'orchestrator_agent', replica: 'replica-1', context: 'SomeService', msg: 'plain' }),
      expect.objectContaining({ level: 40, context: 'Engine', task_id: 'task-7', msg: 'about a workflow' }),
    ]);
    expect(lines()[0]).not.toHaveProperty('task_id');
  });

  it('never writes payloads, results or fields named like secrets, at any depth of an object logged', () => {
    const { log, lines } = logger();
    log.log(
      {
        task_id: 't',
        payload: { topic: 'secret plans' },
        nested: { result: { text: 'private' }, deeper: [{ password: 'hunter2', Token: 'abc', api_key: 'k', authorization: 'Bearer x', kept: 'visible' }] },
      },
      'Ctx',
    );
    const [line] = lines();
    const msg = String(line?.['msg']);
    for (const secret of ['secret plans', 'private', 'hunter2', 'abc', '"k"', 'Bearer x']) expect(msg).not.toContain(secret);
    expect(JSON.parse(msg)).toEqual({
      task_id: 't',
      payload: '[redacted]',
      nested: { result: '[redacted]', deeper: [{ password: '[redacted]', Token: '[redacted]', api_key: '[redacted]', authorization: '[redacted]', kept: 'visible' }] },
    });
  });

  it('cuts a message, and the stack of an error, at 2,000 characters, saying how long it was', () => {
    const { log, lines } = logger();
    log.log('x'.repeat(2_000), 'Ctx');
    const stack = `Error: boom\n${'  at frame\n'.repeat(400)}`;
    log.error('y'.repeat(5_000), stack, 'Ctx');
    const [whole, cut] = lines();
    expect(whole?.['msg']).toBe('x'.repeat(2_000));
    expect(cut?.['msg']).toBe(`${'y'.repeat(2_000)}… (5000 characters)`);
    expect(cut?.['stack']).toBe(`${stack.slice(0, 2_000)}… (${stack.length} characters)`);
    expect(cut?.['level']).toBe(50);
  });

  it("logs an Error by its message, and each of Nest's levels at pino's", () => {
    const { log, lines } = logger();
    log.error(new Error('went wrong'), 'Ctx');
    log.fatal('the end', 'Ctx');
    log.verbose('chatter', 'Ctx');
    expect(lines().map((line) => [line['level'], line['msg']])).toEqual([
      [50, 'went wrong'],
      [60, 'the end'],
    ]);
    const quiet = logger('warn');
    quiet.log.log('not at warn', 'Ctx');
    quiet.log.warn('at warn', 'Ctx');
    expect(quiet.lines().map((line) => line['msg'])).toEqual(['at warn']);
  });

  it('never writes an API key given in a URL query, in a message or in a stack', () => {
    const { log, lines } = logger();
    log.error('GET /tasks/t-1/stream?after=3&api_key=s3cret-key-of-the-api failed [c-1]: boom', 'Error: boom\n at GET /events/stream?API-KEY=s3cret-key-of-the-api', 'HTTP');
    log.warn('opened /docs?api_key=s3cret-key-of-the-api#top and /x;apikey=s3cret-key-of-the-api', 'HTTP');
    const written = JSON.stringify(lines());
    expect(written).not.toContain('s3cret');
    expect(lines()[0]).toMatchObject({ level: 50, context: 'HTTP', msg: 'GET /tasks/t-1/stream?after=3&api_key=[redacted] failed [c-1]: boom' });
    expect(lines()[0]?.['stack']).toContain('?API-KEY=[redacted]');
    expect(lines()[1]?.['msg']).toBe('opened /docs?api_key=[redacted]#top and /x;apikey=[redacted]');
  });

  it('leaves text without a key in a query as it is', () => {
    for (const text of ['api_key is not set', 'GET /tasks?status=FAILED', 'the key=value pair']) expect(withoutKeys(text)).toBe(text);
  });
});
