import { join } from 'node:path';
import { BENCH_AGENT_CONCURRENCY, BLOG_POST_AGENTS } from './blog-post-agents.js';
import { ControlledChild } from './child-process.js';

const BENCH = new URL('..', import.meta.url).pathname;

/** The same five agents, written four ways. */
export const AGENT_KINDS = {
  plainNode: { label: 'plain agent, Node (@nats-io/transport-node)', language: 'node', script: 'dist/children/plain-agent.js' },
  sdkNode: { label: 'Node SDK (@orchestrator/agent-sdk)', language: 'node', script: 'dist/children/sdk-agent.js' },
  plainPython: { label: 'plain agent, Python (nats-py)', language: 'python', script: 'python/plain_agent.py' },
  sdkPython: { label: 'Python SDK (sdks/python)', language: 'python', script: 'python/sdk_agent.py' },
} as const;

export type AgentKind = keyof typeof AGENT_KINDS;

/**
 * Starts the agents of `kind` in a process of their own, not yet subscribed (`start` subscribes
 * them). Python agents run in the SDK's virtual environment (`pythonVenv`, from
 * scripts/python-sdk-venv.sh); BENCH_AGENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=..." profiles Node ones.
 */
export function startAgentProcess(kind: AgentKind, natsUrl: string, pythonVenv: string): Promise<ControlledChild> {
  const { language, script } = AGENT_KINDS[kind];
  const env = {
    NATS_URL: natsUrl,
    BENCH_AGENTS: JSON.stringify(BLOG_POST_AGENTS),
    BENCH_AGENT_CONCURRENCY: String(BENCH_AGENT_CONCURRENCY),
  };
  if (language === 'python') return ControlledChild.start(kind, join(pythonVenv, 'bin', 'python'), [join(BENCH, script)], env);
  const nodeArgs = (process.env['BENCH_AGENT_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  return ControlledChild.start(kind, process.execPath, [...nodeArgs, join(BENCH, script)], env);
}
