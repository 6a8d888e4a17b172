import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from '@nats-io/transport-node';
import { ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { freePort, waitFor } from './support/orchestrator-process.js';
import { useTestStack } from './support/test-stack.js';

const API_KEY = 'e2e-api-key-0123456789abcdef';

describe('security: API key and NATS credentials', () => {
  let natsServer: ChildProcess;
  let natsUrl: string;
  const stack = useTestStack({
    env: () => ({ API_KEY, NATS_URL: natsUrl, NATS_USER: 'orchestrator', NATS_PASSWORD: 's3cret-pass' }),
    before: async () => {
      // A NATS server of its own that requires a user and a password.
      const port = await freePort();
      natsUrl = `nats://127.0.0.1:${port}`;
      natsServer = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '--user', 'orchestrator', '--pass', 's3cret-pass'], { stdio: 'ignore' });
      await waitFor('the NATS server with credentials', async () => {
        const nc = await connect({ servers: natsUrl, user: 'orchestrator', pass: 's3cret-pass' });
        await nc.close();
        return true;
      });
    },
  });
  stack.onStop(() => natsServer?.kill());

  it.each([
    ['no key', {}, 401],
    ['a wrong key', { 'x-api-key': 'wrong-key-wrong-key-wrong' }, 401],
    ['a wrong bearer', { authorization: 'Bearer nope' }, 401],
    ['the key', { 'x-api-key': API_KEY }, 200],
    ['the key as a bearer token', { authorization: `Bearer ${API_KEY}` }, 200],
  ])('answers GET /tasks with %s: %i', async (_name, headers, status) => {
    const res = await fetch(`${stack.orchestrator.baseUrl}/tasks`, { headers });
    expect(res.status).toBe(status);
    if (status === 401) expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('keeps liveness and readiness open and protects the rest', async () => {
    expect((await fetch(`${stack.orchestrator.baseUrl}/health/live`)).status).toBe(200);
    expect((await fetch(`${stack.orchestrator.baseUrl}/health/ready`)).status).toBe(200);
    for (const path of ['/metrics', '/agents', '/status', '/tasks/x']) {
      expect((await fetch(`${stack.orchestrator.baseUrl}${path}`)).status).toBe(401);
    }
    const post = await fetch(`${stack.orchestrator.baseUrl}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(post.status).toBe(401);
  });

  it('talks to a NATS server that requires credentials', async () => {
    const client = await connect({ servers: natsUrl, user: 'orchestrator', pass: 's3cret-pass' });
    const reply = await client.request(ORCHESTRATOR_TASK_SUBJECT, JSON.stringify({ task_id: 'sec-1', task_type: 'no_such_workflow' }), { timeout: 5_000 });
    await client.close();
    expect(reply.json()).toMatchObject({ task_id: 'sec-1', status: 'FAILED' });
    await expect(connect({ servers: natsUrl })).rejects.toThrow();
  });
});
