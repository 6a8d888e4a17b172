import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { TaskPriority } from '@orchestrator/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { newTaskId, parsePayload, parsePriority, parseStatus, parseTime, parseWholeNumber } from './args.js';
import { UsageError } from './cli-error.js';
import { colorsWanted, processOutput } from './output.js';
import { runCli } from './program.js';
import { readSettings } from './settings.js';

const ROOT = new URL('../../..', import.meta.url).pathname;

/** Runs the command line with captured output; `env` as the process would have it. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const output = processOutput({ stdout: { write: (text: string) => (stdout += text), isTTY: false }, stderr: { write: (text: string) => (stderr += text) } }, env);
  const status = await runCli(args, { output, env });
  return { status, stdout, stderr };
}

describe('arguments', () => {
  it('reads a payload as a JSON object, from the text or a file', () => {
    expect(parsePayload('{"topic":"Graphs"}')).toEqual({ topic: 'Graphs' });
    expect(parsePayload('@p.json', (path) => (path === 'p.json' ? '{"a":1}' : ''))).toEqual({ a: 1 });
    expect(() => parsePayload('{topic')).toThrow(/^--payload: not JSON: /);
    expect(() => parsePayload('[1]')).toThrow('--payload: must be a JSON object');
    expect(() => parsePayload('@missing.json', () => { throw new Error('ENOENT'); })).toThrow('--payload: cannot read missing.json: ENOENT');
  });

  it('takes priorities and statuses in any case and names the option otherwise', () => {
    expect(parsePriority('high')).toBe(TaskPriority.High);
    expect(() => parsePriority('urgent')).toThrow('--priority: must be one of LOW, NORMAL, HIGH, CRITICAL, not "urgent"');
    expect(parseStatus('failed')).toBe('FAILED');
    expect(() => parseStatus('done')).toThrow(UsageError);
  });

  it('takes whole numbers only', () => {
    expect(parseWholeNumber('--limit', '20')).toBe(20);
    expect(parseWholeNumber('--after', '0', 0)).toBe(0);
    for (const bad of ['0', '-1', '1.5', 'ten', '']) expect(() => parseWholeNumber('--limit', bad)).toThrow(/^--limit: must be a whole number of at least 1/);
  });

  it('takes times as ISO 8601, seconds since the epoch or from now', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(parseTime('--not-before', '2030-01-01T08:00:00Z').toISOString()).toBe('2030-01-01T08:00:00.000Z');
    expect(parseTime('--not-before', '1893456000.5').getTime()).toBe(1_893_456_000_500);
    expect(parseTime('--not-before', '+10m', now).toISOString()).toBe('2030-01-01T00:10:00.000Z');
    expect(parseTime('--from', '-2h', now).toISOString()).toBe('2029-12-31T22:00:00.000Z');
    for (const bad of ['tomorrow', '+10y', '2030-13-45T00:00:00Z', '']) expect(() => parseTime('--not-before', bad)).toThrow(/^--not-before: must be an ISO 8601 time/);
  });

  it('makes task ids from the task type, never twice the same', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newTaskId('create_blog_post')));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^create_blog_post-[0-9a-f]{12}$/);
  });
});

describe('settings and colours', () => {
  it('takes --url over ORCHESTRATOR_URL over the default, and API_KEY from the environment', () => {
    expect(readSettings({}, undefined)).toEqual({ url: 'http://127.0.0.1:3000', apiKey: undefined });
    expect(readSettings({ ORCHESTRATOR_URL: 'http://o:1', API_KEY: 'k' }, undefined)).toEqual({ url: 'http://o:1', apiKey: 'k' });
    expect(readSettings({ ORCHESTRATOR_URL: 'http://o:1' }, 'https://p').url).toBe('https://p');
    expect(() => readSettings({ ORCHESTRATOR_URL: 'nats://o:4222' }, undefined)).toThrow('ORCHESTRATOR_URL: must be an http:// or https:// URL');
    expect(() => readSettings({}, 'not a url')).toThrow('--url: not a URL');
  });

  it('colours a terminal only, and never under NO_COLOR', () => {
    expect(colorsWanted(true, {})).toBe(true);
    expect(colorsWanted(false, {})).toBe(false);
    expect(colorsWanted(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorsWanted(true, { NO_COLOR: '' })).toBe(true);
  });
});

describe('the command line', () => {
  const servers: Server[] = [];
  afterEach(() => servers.splice(0).forEach((server) => server.close()));

  it('exits 2 on usage errors, naming what is wrong, without asking the orchestrator', async () => {
    const url = 'http://127.0.0.1:1'; // nothing listens: a request would fail with 1
    for (const [args, message] of [
      [['submit'], "missing required argument 'task_type'"],
      [['submit', 'create_blog_post', '--payload', '[]'], '--payload: must be a JSON object'],
      [['submit', 'create_blog_post', '--priority', 'urgent'], '--priority: must be one of'],
      [['submit', 'Bad Type'], 'task_type: must match'],
      [['list', '--limit', 'x'], '--limit: must be a whole number'],
      [['list', '--status', 'done'], '--status: must be one of'],
      [['get'], "missing required argument 'task_id'"],
      [['frobnicate'], "unknown command 'frobnicate'"],
      [['get', 'x', '--bogus'], "unknown option '--bogus'"],
    ] as const) {
      const result = await cli([...args], { ORCHESTRATOR_URL: url });
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(message);
    }
  });

  it('prints help and exits 0', async () => {
    const result = await cli(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: orchestrator');
    expect(result.stdout).toContain('ORCHESTRATOR_URL');
  });

  it("prints the server's message with the field it names, and exits 2 for a 400 and 1 for others", async () => {
    const server = createServer((req, res) => {
      const [status, body] =
        req.url === '/tasks'
          ? [400, { code: 'INVALID_PAYLOAD', message: 'payload.topic: is required', task_id: 't' }]
          : [404, { code: 'TASK_NOT_FOUND', message: 'no task with task_id "nope"' }];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    servers.push(server.listen(0, '127.0.0.1'));
    await once(server, 'listening');
    const env = { ORCHESTRATOR_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    const refused = await cli(['submit', 'create_blog_post', '--task-id', 't'], env);
    expect(refused).toMatchObject({ status: 2, stdout: '' });
    expect(refused.stderr).toBe('error: payload.topic: is required\n  field: payload.topic, code: INVALID_PAYLOAD, HTTP 400\n');
    const missing = await cli(['get', 'nope'], env);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('error: no task with task_id "nope"\n  code: TASK_NOT_FOUND, HTTP 404');
    const unreachable = await cli(['agents'], { ORCHESTRATOR_URL: 'http://127.0.0.1:1' });
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toContain('code: UNAVAILABLE');
  });

  it('validates workflow files, with --json after the subcommand, and exits 1 on a problem', async () => {
    const good = await cli(['workflows', 'validate', join(ROOT, 'workflows'), '--json']);
    expect(good.status).toBe(0);
    const report = JSON.parse(good.stdout) as { workflows: { task_type: string; steps: number }[]; problems: string[] };
    expect(report.problems).toEqual([]);
    expect(report.workflows).toContainEqual(expect.objectContaining({ task_type: 'create_blog_post', steps: 5 }));
    const bad = await cli(['workflows', 'validate', join(ROOT, 'no-such-folder')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('cannot read the workflows folder');
  });
});
