import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { agentTaskSubject, completedResponse, ORCHESTRATOR_AGENT_NAME, ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsulStandIn, type ConsulState } from './support/consul-stand-in.js';
import { TestDatabase } from './support/database.js';
import { PlainNatsClient } from './support/nats-client.js';
import { startOrchestrator, waitFor, type AppProcess } from './support/orchestrator-process.js';
import { testEnv } from './support/test-env.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');

describe('Consul (against a stand-in of its HTTP API)', () => {
  let db: TestDatabase;
  let nats: PlainNatsClient;
  let orchestrator: AppProcess;
  let consul: Awaited<ReturnType<typeof startConsulStandIn>>;
  let state: ConsulState;

  beforeAll(async () => {
    db = await TestDatabase.connect();
    await db.reset();
    consul = await startConsulStandIn();
    state = consul.state;
    state.putKv(`config/${ORCHESTRATOR_AGENT_NAME}/DEFAULT_MAX_ATTEMPTS`, '7');
    orchestrator = await startOrchestrator({ workflowsDir: FIXTURES, env: { CONSUL_URL: consul.url, INSTANCE_ID: 'consul-replica' } });
    nats = await PlainNatsClient.connect();
  });

  afterAll(async () => {
    await nats?.close();
    await orchestrator?.stop();
    await consul?.close();
    await db?.close();
  });

  it('registers the replica with a readiness check, and reports Consul in readiness', async () => {
    const service = state.services.get(`${ORCHESTRATOR_AGENT_NAME}-consul-replica`);
    expect(service).toMatchObject({
      Name: ORCHESTRATOR_AGENT_NAME,
      Port: orchestrator.port,
      Check: { HTTP: `http://127.0.0.1:${orchestrator.port}/health/ready`, DeregisterCriticalServiceAfter: '1m' },
    });
    const ready = (await (await fetch(`${orchestrator.baseUrl}/health/ready`)).json()) as { info: Record<string, unknown> };
    expect(Object.keys(ready.info)).toContain('consul');
  });

  it('reads settings from the KV store at start and follows a change without a restart', async () => {
    const settings = async () => ((await (await fetch(`${orchestrator.baseUrl}/status`)).json()) as { settings: Record<string, unknown> }).settings;
    expect((await settings())['DEFAULT_MAX_ATTEMPTS']).toBe(7);
    state.putKv(`config/${ORCHESTRATOR_AGENT_NAME}/DEFAULT_STEP_TIMEOUT_MS`, '4321');
    await waitFor('the new timeout to be in force', async () => ((await settings())['DEFAULT_STEP_TIMEOUT_MS'] === 4321 ? true : undefined), 10_000);
    state.putKv(`config/${ORCHESTRATOR_AGENT_NAME}/DEFAULT_MAX_ATTEMPTS`, 'many');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await settings())['DEFAULT_MAX_ATTEMPTS']).toBe(7);
  });

  it('routes to an agent found in the catalog by its capability tag', async () => {
    const raw = await connect({ servers: testEnv().natsUrl, name: 'e2e_consul_agent' });
    const encoder = new TextEncoder();
    raw.subscribe(agentTaskSubject('e2e_consul_agent'), {
      callback: (_error, msg) => {
        const request = msg.json<{ task_id: string }>();
        msg.respond(encoder.encode(JSON.stringify(completedResponse(request.task_id, { via: 'consul' }))));
      },
    });
    await raw.flush();
    state.registerAgent('e2e_consul_agent', ['capability:e2e_static_work']);
    const response = await nats.request(ORCHESTRATOR_TASK_SUBJECT, { task_id: 'consul-1', task_type: 'e2e_static' });
    await raw.close();
    expect(response).toMatchObject({ status: 'COMPLETED', result: { steps: { legacy: { via: 'consul' } } } });
  });

  it('deregisters when it shuts down', async () => {
    expect(state.services.has(`${ORCHESTRATOR_AGENT_NAME}-consul-replica`)).toBe(true);
    await orchestrator.stop();
    expect(orchestrator.running).toBe(false);
    expect(state.services.has(`${ORCHESTRATOR_AGENT_NAME}-consul-replica`)).toBe(false);
  });
});
