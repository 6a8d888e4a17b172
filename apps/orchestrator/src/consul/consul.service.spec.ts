import { ORCHESTRATOR_AGENT_NAME } from '@orchestrator/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startConsulStandIn } from '../../../../test/support/consul-stand-in.js';
import { AppConfig } from '../config/app-config.js';
import { ConsulService, SETTINGS_PREFIX } from './consul.service.js';

describe('ConsulService (against a stand-in of the Consul HTTP API)', () => {
  let consul: Awaited<ReturnType<typeof startConsulStandIn>>;
  let service: ConsulService;

  beforeEach(async () => {
    consul = await startConsulStandIn();
    service = new ConsulService(Object.assign(new AppConfig(), { CONSUL_URL: consul.url, PORT: 3000, INSTANCE_ID: 'Replica.One' }));
  });

  afterEach(async () => {
    await consul.close();
  });

  it('does nothing without CONSUL_URL', async () => {
    const off = new ConsulService(new AppConfig());
    expect(off.enabled).toBe(false);
    await off.onApplicationBootstrap();
    await off.ping();
    expect(await off.agents()).toEqual([]);
    expect(await off.readSettings()).toEqual({});
    off.watchSettings(() => undefined)();
    await off.onApplicationShutdown();
  });

  it('registers the replica with an HTTP readiness check and deregisters it', async () => {
    expect(service.enabled).toBe(true);
    expect(service.serviceId).toBe(`${ORCHESTRATOR_AGENT_NAME}-replica-one`);
    await service.onApplicationBootstrap();
    expect(consul.state.services.get(service.serviceId)).toMatchObject({
      ID: service.serviceId,
      Name: ORCHESTRATOR_AGENT_NAME,
      Address: '127.0.0.1',
      Port: 3000,
      Check: { HTTP: 'http://127.0.0.1:3000/health/ready', Interval: '10s', DeregisterCriticalServiceAfter: '1m' },
    });
    await service.onApplicationShutdown();
    expect(consul.state.services.has(service.serviceId)).toBe(false);
  });

  it('pings the leader, and fails when Consul is unreachable', async () => {
    await expect(service.ping()).resolves.toBeUndefined();
    await consul.close();
    await expect(service.ping()).rejects.toThrow();
  });

  it('finds agents by their capability tags, dropping invalid names and untagged services', async () => {
    consul.state.registerAgent('summary_agent', ['capability:summarize', 'capability:translate', 'max_concurrency:4']);
    consul.state.registerAgent('Bad-Name!', ['capability:summarize']);
    consul.state.services.set('plain', { ID: 'plain', Name: 'plain_service', Tags: ['web'] });
    await service.onApplicationBootstrap();
    expect(await service.agents()).toEqual([{ name: 'summary_agent', capabilities: ['summarize', 'translate'], max_concurrency: 4 }]);
  });

  it('reads settings by the last segment of their key', async () => {
    consul.state.putKv(`${SETTINGS_PREFIX}DEFAULT_MAX_ATTEMPTS`, '5');
    consul.state.putKv(`${SETTINGS_PREFIX}SWEEP_INTERVAL_MS`, '250');
    consul.state.putKv('config/other_service/DEFAULT_MAX_ATTEMPTS', '9');
    expect(await service.readSettings()).toEqual({ DEFAULT_MAX_ATTEMPTS: '5', SWEEP_INTERVAL_MS: '250' });
  });

  it('sees a KV change through the watch', async () => {
    consul.state.putKv(`${SETTINGS_PREFIX}DEFAULT_MAX_ATTEMPTS`, '5');
    const seen: Record<string, string>[] = [];
    const stop = service.watchSettings((settings) => seen.push(settings));
    try {
      await waitUntil(() => seen.some((s) => s['DEFAULT_MAX_ATTEMPTS'] === '5'));
      consul.state.putKv(`${SETTINGS_PREFIX}DEFAULT_MAX_ATTEMPTS`, '8');
      await waitUntil(() => seen.some((s) => s['DEFAULT_MAX_ATTEMPTS'] === '8'));
      expect(seen.at(-1)).toEqual({ DEFAULT_MAX_ATTEMPTS: '8' });
    } finally {
      stop();
    }
  });

  it('keeps watching after errors, backing off', { timeout: 15_000 }, async () => {
    consul.state.putKv(`${SETTINGS_PREFIX}DEFAULT_MAX_ATTEMPTS`, '5');
    const seen: Record<string, string>[] = [];
    consul.state.kvFailures.push(500, 500, 400);
    const stop = service.watchSettings((settings) => seen.push(settings));
    try {
      await waitUntil(() => seen.length > 0, 10_000);
      consul.state.putKv(`${SETTINGS_PREFIX}DEFAULT_MAX_ATTEMPTS`, '6');
      await waitUntil(() => seen.some((s) => s['DEFAULT_MAX_ATTEMPTS'] === '6'));
      expect(consul.state.kvFailures).toEqual([]);
    } finally {
      stop();
    }
  });
});

describe('ConsulService with ACLs on', () => {
  it('sends CONSUL_TOKEN with every request, and is refused without it', async () => {
    const consul = await startConsulStandIn({ token: 'secret-token' });
    try {
      consul.state.putKv(`${SETTINGS_PREFIX}DEFAULT_MAX_ATTEMPTS`, '5');
      const config = { CONSUL_URL: consul.url, PORT: 3000, INSTANCE_ID: 'acl' };
      const withToken = new ConsulService(Object.assign(new AppConfig(), config, { CONSUL_TOKEN: 'secret-token' }));
      await withToken.onApplicationBootstrap();
      expect(consul.state.services.has(withToken.serviceId)).toBe(true);
      expect(await withToken.readSettings()).toEqual({ DEFAULT_MAX_ATTEMPTS: '5' });
      const without = new ConsulService(Object.assign(new AppConfig(), config));
      await expect(without.readSettings()).rejects.toThrow('403 "Permission denied: token not found"');
      await expect(without.ping()).rejects.toThrow('403');
    } finally {
      await consul.close();
    }
  });
});

describe('watching settings', () => {
  it('stops on shutdown: the query in flight is given up and no more are made', async () => {
    const consul = await startConsulStandIn();
    try {
      const service = new ConsulService(Object.assign(new AppConfig(), { CONSUL_URL: consul.url }));
      const seen: Record<string, string>[] = [];
      const stop = service.watchSettings((settings) => seen.push(settings));
      await waitUntil(() => seen.length === 1 && consul.state.kvReads === 2);
      stop();
      consul.state.putKv(`${SETTINGS_PREFIX}DEFAULT_MAX_ATTEMPTS`, '9');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(seen).toEqual([{}]);
      expect(consul.state.kvReads).toBe(2);
    } finally {
      await consul.close();
    }
  });

  it('starts over when the index goes back, as after a restored snapshot', async () => {
    const consul = await startConsulStandIn();
    try {
      consul.state.index = 100;
      consul.state.putKv(`${SETTINGS_PREFIX}SWEEP_INTERVAL_MS`, '300');
      const service = new ConsulService(Object.assign(new AppConfig(), { CONSUL_URL: consul.url }));
      const seen: Record<string, string>[] = [];
      const stop = service.watchSettings((settings) => seen.push(settings));
      try {
        // Once the blocking query for what follows index 101 waits, the index goes back.
        await waitUntil(() => seen.length === 1 && consul.state.kvReads === 2);
        consul.state.index = 5;
        consul.state.putKv(`${SETTINGS_PREFIX}SWEEP_INTERVAL_MS`, '400');
        await waitUntil(() => seen.length === 2);
        expect(seen[1]).toEqual({ SWEEP_INTERVAL_MS: '400' });
      } finally {
        stop();
      }
    } finally {
      await consul.close();
    }
  });
});

async function waitUntil(condition: () => boolean, ms = 4_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
