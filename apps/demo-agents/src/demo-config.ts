import { resolve } from 'node:path';
import { isAgentName } from '@orchestrator/contracts';

export const DEMO_AGENT_NAMES = ['llm_agent', 'enhancement_agent', 'examination_agent', 'drafting_agent', 'communication_agent'] as const;
export type DemoAgentName = (typeof DEMO_AGENT_NAMES)[number];

export interface DemoConfig {
  /** One or more server URLs. */
  natsServers: string[];
  /** Absolute. */
  publishDir: string;
  heartbeatIntervalMs: number;
  maxConcurrency: number;
  agents: DemoAgentName[];
  /**
   * NATS passwords by agent, from `<AGENT NAME>_NATS_PASSWORD` (the variables
   * deploy/nats/permissions.conf reads): an agent with one logs in as itself, on a connection of
   * its own; the others share one connection without credentials.
   */
  passwords: Partial<Record<DemoAgentName, string>>;
}

function isDemoAgentName(name: string): name is DemoAgentName {
  return isAgentName(name) && (DEMO_AGENT_NAMES as readonly string[]).includes(name);
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** The demo agents' configuration: the only place that reads the environment. Throws naming the bad variable. */
export function loadDemoConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const agents: DemoAgentName[] = [];
  for (const name of (env['AGENTS'] || DEMO_AGENT_NAMES.join(',')).split(',').map((n) => n.trim())) {
    if (name === '') continue;
    if (!isDemoAgentName(name)) throw new Error(`AGENTS: unknown demo agent ${JSON.stringify(name)} (known: ${DEMO_AGENT_NAMES.join(', ')})`);
    if (!agents.includes(name)) agents.push(name);
  }
  if (agents.length === 0) throw new Error(`AGENTS: names no agent (known: ${DEMO_AGENT_NAMES.join(', ')})`);
  const natsServers = (env['NATS_URL'] || 'nats://127.0.0.1:4222').split(',').map((url) => url.trim()).filter((url) => url !== '');
  for (const url of natsServers) {
    if (!/^(?:nats|tls|wss?):\/\/[^\s/]+/.test(url) && !/^[\w.-]+:\d+$/.test(url)) throw new Error(`NATS_URL: ${JSON.stringify(url)} is not a server URL such as nats://127.0.0.1:4222`);
  }
  return {
    natsServers,
    publishDir: resolve(env['PUBLISH_DIR'] || '.data/published'),
    heartbeatIntervalMs: positiveInt(env, 'HEARTBEAT_INTERVAL_MS', 5_000),
    maxConcurrency: positiveInt(env, 'MAX_CONCURRENCY', 16),
    agents,
    passwords: Object.fromEntries(
      agents.flatMap((name) => {
        const password = env[`${name.toUpperCase()}_NATS_PASSWORD`];
        return password ? [[name, password]] : [];
      }),
    ),
  };
}
