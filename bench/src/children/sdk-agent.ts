/**
 * The five agents of create_blog_post written on the Node SDK (@orchestrator/agent-sdk), sharing
 * one connection as the plain agent does: the same work, so that the difference is the SDK's.
 */
import { connect } from '@nats-io/transport-node';
import { Agent } from '@orchestrator/agent-sdk';
import { BENCH_AGENT_CONCURRENCY, BLOG_POST_AGENTS } from '../blog-post-agents.js';
import { monotonicNs } from '../stats.js';
import { cpuMicros, sendEvent, serveControl, StepClock } from './control.js';

const nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222', name: 'bench-sdk-agent' });
const clock = new StepClock();
const quiet = { log: () => undefined, warn: () => undefined, error: (message: string) => console.error(message) };
let handled = 0;

const agents = BLOG_POST_AGENTS.map(({ name, taskType, result }) =>
  new Agent({ name, agentType: 'bench', connection: nc, maxConcurrency: BENCH_AGENT_CONCURRENCY, logger: quiet }).handle(taskType, () => {
    clock.record(monotonicNs());
    handled += 1;
    return result;
  }),
);

serveControl({
  start: () => Promise.all(agents.map((agent) => agent.start())),
  stop: () => Promise.all(agents.map((agent) => agent.stop())),
  spans: () => clock.take(),
  usage: () => ({ cpuMicros: cpuMicros(), handled }),
  quit: async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await nc.drain();
  },
});
sendEvent('ready');
