import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { agentTaskSubject, completedResponse, ORCHESTRATOR_AGENT_NAME } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { startConsulStandIn, type ConsulState } from './support/consul-stand-in.js';
import { waitFor } from './support/orchestrator-process.js';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');

describe('Consul (against a stand-in of its HTTP API)', () => {
  let consul: Awaited<ReturnType<typeof startConsulStandIn>>;
  let state: ConsulState;
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    env: () => ({ CONSUL_URL: consul.url, INSTANCE_ID: 'consul-replica' }),
    before: async () => {
      consul = await startConsulStandIn();
      state = consul.state;
      state.putKv(`config/${ORCHESTRATOR_AGENT_NAME}/DEFAULT_MAX_ATTEMPTS`, '7');
    },
  });
  stack.onStop(() => consul?.close());

  it('registers the replica with a readiness check, and reports Consul in readiness', async () => {
    const service = state.services.get(`${ORCHESTRATOR_AGENT_NAME}-consul-replica`);
    expect(service).toMatchObject({
      Name: ORCHESTRATOR_AGENT_NAME,
      Port: stack.orchestrator.port,
      Check: { HTTP: `http://127.0.0.1:${stack.orchestrator.port}/health/ready`, DeregisterCriticalServiceAfter: '1m' },
    });
    const ready = await stack.get<{ info: Record<string, unknown> }>('/health/ready');
    expect(Object.keys(ready.info)).toContain('consul');
  });

  it('reads settings from the KV store at start and follows a change without a restart', async () => {
    const settings = async () => (await stack.get<{ settings: Record<string, unknown> }>('/status')).settings;
    expect((await settings())['DEFAULT_MAX_ATTEMPTS']).toBe(7);
    state.putKv(`config/${ORCHESTRATOR_AGENT_NAME}/DEFAULT_STEP_TIMEOUT_MS`, '4321');
    await waitFor('the new timeout to be in force', async () => ((await settings())['DEFAULT_STEP_TIMEOUT_MS'] === 4321 ? true : undefined), 10_000);
    state.putKv(`config/${ORCHESTRATOR_AGENT_NAME}/DEFAULT_MAX_ATTEMPTS`, 'many');
    // The watcher saw the bad value and refused it (logged, naming the setting); what was in force stays.
    await waitFor('the bad setting to be refused', () => (/refused settings from Consul: .*DEFAULT_MAX_ATTEMPTS/.test(readFileSync(stack.orchestrator.logFile, 'utf8')) ? true : undefined), 10_000);
    expect(await settings()).toMatchObject({ DEFAULT_MAX_ATTEMPTS: 7, DEFAULT_STEP_TIMEOUT_MS: 4321 });
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
    const response = await stack.submit({ task_id: 'consul-1', task_type: 'e2e_static' });
    await raw.close();
    expect(response).toMatchObject({ status: 'COMPLETED', result: { steps: { legacy: { via: 'consul' } } } });
  });

  it('deregisters when it shuts down', async () => {
    expect(state.services.has(`${ORCHESTRATOR_AGENT_NAME}-consul-replica`)).toBe(true);
    await stack.orchestrator.stop();
    expect(stack.orchestrator.running).toBe(false);
    expect(state.services.has(`${ORCHESTRATOR_AGENT_NAME}-consul-replica`)).toBe(false);
  });
});
