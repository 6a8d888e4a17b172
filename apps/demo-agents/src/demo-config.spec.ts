import { isAbsolute } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_AGENT_NAMES, loadDemoConfig } from './demo-config.js';

describe('loadDemoConfig', () => {
  it('has defaults for everything', () => {
    const config = loadDemoConfig({});
    expect(config).toMatchObject({ natsServers: ['nats://127.0.0.1:4222'], heartbeatIntervalMs: 5_000, maxConcurrency: 16, agents: [...DEMO_AGENT_NAMES] });
    expect(isAbsolute(config.publishDir)).toBe(true);
    expect(config.publishDir.endsWith('.data/published')).toBe(true);
  });

  it('reads the variables', () => {
    expect(
      loadDemoConfig({
        AGENTS: 'llm_agent, drafting_agent,llm_agent',
        NATS_URL: 'nats://a:4222,nats://b:4222',
        PUBLISH_DIR: '/tmp/posts',
        HEARTBEAT_INTERVAL_MS: '250',
        MAX_CONCURRENCY: '4',
      }),
    ).toEqual({ agents: ['llm_agent', 'drafting_agent'], natsServers: ['nats://a:4222', 'nats://b:4222'], publishDir: '/tmp/posts', heartbeatIntervalMs: 250, maxConcurrency: 4, passwords: {} });
  });

  it("reads the NATS password of each agent it runs, from the variable the permissions file reads", () => {
    const config = loadDemoConfig({ AGENTS: 'llm_agent,drafting_agent', LLM_AGENT_NATS_PASSWORD: 'secret-1', EXAMINATION_AGENT_NATS_PASSWORD: 'not-run' });
    expect(config.passwords).toEqual({ llm_agent: 'secret-1' });
  });

  it.each([
    [{ AGENTS: 'a.>' }, 'AGENTS: unknown demo agent "a.>"'],
    [{ AGENTS: 'planner_agent' }, 'AGENTS: unknown demo agent "planner_agent"'],
    [{ AGENTS: ' , ' }, 'AGENTS: names no agent'],
    [{ MAX_CONCURRENCY: '0' }, 'MAX_CONCURRENCY must be a positive integer'],
    [{ HEARTBEAT_INTERVAL_MS: '1.5' }, 'HEARTBEAT_INTERVAL_MS must be a positive integer'],
    [{ NATS_URL: 'http://x y' }, 'NATS_URL: "http://x y" is not a server URL'],
  ])('refuses %j naming the variable', (env, error) => {
    expect(() => loadDemoConfig(env)).toThrow(error);
  });
});
