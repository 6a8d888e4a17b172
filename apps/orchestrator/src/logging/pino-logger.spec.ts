import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PinoLogger, withoutKeys } from './pino-logger.js';

/** A logger writing its JSON lines into an array. */
function capture(): { logger: PinoLogger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = new PinoLogger('log', 'replica-1', sink);
  return { logger, lines: () => chunks.join('').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('PinoLogger', () => {
  it('never writes an API key given in a URL query, in a message or in a stack', () => {
    const { logger, lines } = capture();
    logger.error('GET /tasks/t-1/stream?after=3&api_key=s3cret-key-of-the-api failed [c-1]: boom', 'Error: boom\n at GET /events/stream?API-KEY=s3cret-key-of-the-api', 'HTTP');
    logger.warn('opened /docs?api_key=s3cret-key-of-the-api#top and /x;apikey=s3cret-key-of-the-api', 'HTTP');
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
