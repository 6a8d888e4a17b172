import { isAgentName } from '@orchestrator/contracts';

export const DEMO_AGENT_NAMES = ['llm_agent', 'enhancement_agent', 'examination_agent', 'drafting_agent', 'communication_agent'] as const;
export type DemoAgentName = (typeof DEMO_AGENT_NAMES)[number];

export interface DemoConfig {
  natsUrl: string;
  publishDir: string;
  heartbeatIntervalMs: number;
  maxConcurrency: number;
  agents: DemoAgentName[];
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** The demo agents' configuration, read once from the environment. */
export function loadDemoConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const agents = (env['AGENTS'] ?? DEMO_AGENT_NAMES.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  for (const name of agents) {
    if (!isAgentName(name) || !(DEMO_AGENT_NAMES as readonly string[]).includes(name)) {
      throw new Error(`AGENTS: unknown demo agent ${JSON.stringify(name)} (known: ${DEMO_AGENT_NAMES.join(', ')})`);
    }
  }
  return {
    natsUrl: env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
    publishDir: env['PUBLISH_DIR'] ?? '.data/published',
    heartbeatIntervalMs: positiveInt(env, 'HEARTBEAT_INTERVAL_MS', 5_000),
    maxConcurrency: positiveInt(env, 'MAX_CONCURRENCY', 16),
    agents: agents as DemoAgentName[],
  };
}
