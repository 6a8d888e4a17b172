/**
 * The five agents of create_blog_post as a plain NATS client writes them, with nothing but
 * @nats-io/transport-node: parse the request, reply with a TaskResponse at once. It announces
 * itself as the contract asks (at start and every five seconds), off the path of a sub-task.
 * Each step's span (message received, answer handed to the client) is kept for the bench.
 */
import { connect, type Msg, type Subscription } from '@nats-io/transport-node';
import { AGENT_HEARTBEAT_SUBJECT, AGENT_REGISTERED_SUBJECT, agentTaskSubject } from '@orchestrator/contracts';
import { BENCH_AGENT_CONCURRENCY, BLOG_POST_AGENTS } from '../blog-post-agents.js';
import { monotonicNs } from '../stats.js';
import { cpuMicros, sendEvent, serveControl, StepClock } from './control.js';

const ECHO_SUBJECT = process.env['BENCH_ECHO_SUBJECT'] ?? 'bench.echo';
const nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222', name: 'bench-plain-agent' });
const clock = new StepClock();
const instanceId = `plain-${process.pid}`;
let subscriptions: Subscription[] = [];
let heartbeat: NodeJS.Timeout | undefined;
let handled = 0;

function announce(subject: string): void {
  for (const { name, taskType } of BLOG_POST_AGENTS) {
    nc.publish(
      subject,
      JSON.stringify({
        name,
        instance_id: instanceId,
        agent_type: 'bench',
        capabilities: [taskType],
        load: { in_flight: 0, max_concurrency: BENCH_AGENT_CONCURRENCY },
        ts: Date.now() / 1000,
      }),
    );
  }
}

function answer(msg: Msg, result: Record<string, unknown>): void {
  const start = monotonicNs();
  const { task_id } = msg.json<{ task_id: string }>();
  msg.respond(JSON.stringify({ task_id, status: 'COMPLETED', success: true, result, error: null, completed_at: Date.now() / 1000 }));
  handled += 1;
  clock.record(start);
}

// The floor: a NATS request-reply round trip to this process, which does nothing else.
nc.subscribe(ECHO_SUBJECT, {
  callback: (_error, msg) => {
    msg.respond(msg.data);
  },
});

serveControl({
  start: async () => {
    subscriptions = BLOG_POST_AGENTS.map(({ name, result }) =>
      nc.subscribe(agentTaskSubject(name), { queue: name, callback: (error, msg) => {
        if (!error) answer(msg, result);
      } }),
    );
    await nc.flush();
    announce(AGENT_REGISTERED_SUBJECT);
    heartbeat = setInterval(() => announce(AGENT_HEARTBEAT_SUBJECT), 5_000);
    await nc.flush();
  },
  stop: async () => {
    clearInterval(heartbeat);
    await Promise.all(subscriptions.map((subscription) => subscription.drain()));
    subscriptions = [];
  },
  spans: () => clock.take(),
  usage: () => ({ cpuMicros: cpuMicros(), handled }),
  quit: async () => {
    await nc.drain();
  },
});
sendEvent('ready');
