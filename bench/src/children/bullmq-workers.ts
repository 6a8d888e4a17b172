/** BullMQ workers of the five-step chain, one queue per step, on the Redis of BENCH_REDIS_URL. */
import { Worker, type ConnectionOptions } from 'bullmq';
import { stepQueues } from '../chain.js';
import { monotonicNs } from '../stats.js';
import { sendEvent, serveControl, StepClock } from './control.js';

const { hostname, port } = new URL(process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const connection: ConnectionOptions = { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null };
const clock = new StepClock();
let workers: Worker[] = [];

const stop = async (): Promise<void> => {
  await Promise.all(workers.map((worker) => worker.close()));
  workers = [];
};

serveControl({
  start: async () => {
    // As many jobs at once per queue as pg-boss's batch and graphile-worker's local queue.
    workers = stepQueues().map(
      (queue) =>
        new Worker(
          queue,
          () => {
            clock.record(monotonicNs());
            return Promise.resolve({});
          },
          { connection, concurrency: 100 },
        ),
    );
    await Promise.all(workers.map((worker) => worker.waitUntilReady()));
  },
  stop,
  spans: () => clock.take(),
  quit: stop,
});
sendEvent('ready');
