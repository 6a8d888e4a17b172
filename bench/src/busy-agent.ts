/**
 * The backpressure benchmark's agent, in a process of its own, as a plain NATS client: it announces
 * `max_concurrency` CAPACITY, takes whatever it is sent (counting what it holds, never refusing),
 * and answers each sub-task on its reply subject after DELAY_MS. `bench.busy.stats` answers with
 * what it saw: sub-tasks received, the most held at once, and the time it held at least one.
 */
import { connect } from '@nats-io/transport-node';
import { AGENT_HEARTBEAT_SUBJECT, agentTaskSubject } from '@orchestrator/contracts';
import { env } from './env.js';

const name = process.env['AGENT_NAME'] ?? 'bench_busy';
const capacity = Number(process.env['CAPACITY'] ?? '8');
const delayMs = Number(process.env['DELAY_MS'] ?? '20');
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const nc = await connect({ servers: env('NATS_URL'), name });
let held = 0;
let maxHeld = 0;
let received = 0;
/** Sum over time of what it held (slot-milliseconds), to tell how much of its capacity was used. */
let heldMs = 0;
let since = performance.now();
const account = (): void => {
  const now = performance.now();
  heldMs += held * (now - since);
  since = now;
};

nc.subscribe(agentTaskSubject(name), {
  queue: name,
  callback: (_error, msg) => {
    const request = JSON.parse(decoder.decode(msg.data)) as { task_id: string; payload: Record<string, unknown> };
    account();
    held += 1;
    received += 1;
    maxHeld = Math.max(maxHeld, held);
    setTimeout(() => {
      account();
      held -= 1;
      msg.respond(encoder.encode(JSON.stringify({ task_id: request.task_id, status: 'COMPLETED', success: true, result: request.payload, error: null, completed_at: Date.now() / 1000 })));
    }, delayMs);
  },
});
nc.subscribe('bench.busy.stats', {
  callback: (_error, msg) => {
    account();
    msg.respond(encoder.encode(JSON.stringify({ received, maxHeld, heldMs })));
    if (decoder.decode(msg.data) === 'reset') {
      received = 0;
      maxHeld = 0;
      heldMs = 0;
    }
  },
});
const announce = (): void => {
  nc.publish(
    AGENT_HEARTBEAT_SUBJECT,
    encoder.encode(JSON.stringify({ name, instance_id: `bench-${process.pid}`, agent_type: 'bench', capabilities: ['bench_work'], load: { in_flight: held, max_concurrency: capacity }, ts: Date.now() / 1000 })),
  );
};
announce();
setInterval(announce, 1_000);
process.on('SIGTERM', () => void nc.close().then(() => process.exit(0)));
