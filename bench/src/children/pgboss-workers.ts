/**
 * pg-boss workers of the five-step chain, one queue per step: each job's handler sends the next
 * step's job; the last step completes its batch and tells the bench (event `done`).
 *
 * A pg-boss 10 worker polls: it fetches up to a batch, runs the handler, completes the batch and
 * then sleeps out the rest of its polling interval (0.5 s at the least), whether it found jobs or
 * not; it does not LISTEN for new jobs. BENCH_PGBOSS_WOKEN=1 gives it its best case: a step's
 * handler wakes the next step's worker (`notifyWorker`, which works within one process) once it
 * has sent it its jobs, and its own when its batch was full (more are waiting); the bench wakes
 * the first step's worker (command `wake`) once it has sent the first jobs.
 */
import PgBoss from 'pg-boss';
import { STEPS, stepQueues } from '../chain.js';
import { monotonicNs } from '../stats.js';
import { sendEvent, serveControl, StepClock } from './control.js';

const POLLING_INTERVAL_SECONDS = 0.5;
// As many jobs at a time as a BullMQ worker of this bench runs at once.
const BATCH_SIZE = 100;

interface StepData {
  id: string;
}

const woken = process.env['BENCH_PGBOSS_WOKEN'] === '1';
const queues = stepQueues(process.env['BENCH_PGBOSS_QUEUE_PREFIX']);
// The bench's own instance made the schema and runs maintenance; no cron schedules are used.
const boss = new PgBoss({
  connectionString: process.env['DATABASE_URL'],
  schema: process.env['BENCH_PGBOSS_SCHEMA'],
  schedule: false,
  supervise: false,
  migrate: false,
});
boss.on('error', (error) => console.error(`pg-boss: ${error.message}`));
await boss.start();
const clock = new StepClock();
let workers: string[] = [];

async function handle(step: number, jobs: PgBoss.Job<StepData>[]): Promise<void> {
  const start = monotonicNs();
  if (woken && jobs.length === BATCH_SIZE) boss.notifyWorker(workers[step]);
  if (step + 1 < STEPS) {
    await boss.insert(jobs.map((job) => ({ name: queues[step + 1], data: { id: job.data.id } })));
    if (woken) boss.notifyWorker(workers[step + 1]);
  } else {
    // `work` completes a batch after its handler returns, and tells no one; the last step completes
    // its own, so that a chain is done once its last job is completed in the database.
    await boss.complete(queues[step], jobs.map((job) => job.id));
  }
  // The span ends before the bench hears of it: else the last step's end could come after the
  // workflow's, and "last step to done" be negative.
  for (let i = 0; i < jobs.length; i++) clock.record(start);
  if (step + 1 === STEPS) sendEvent('done', jobs.map((job) => job.data.id));
}

const stop = async (): Promise<void> => {
  for (const queue of queues) await boss.offWork(queue);
  workers = [];
};

serveControl({
  start: async () => {
    const options = { batchSize: BATCH_SIZE, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS };
    workers = [];
    for (const [step, queue] of queues.entries()) workers[step] = await boss.work<StepData>(queue, options, (jobs) => handle(step, jobs));
  },
  stop,
  wake: () => {
    if (woken && workers[0]) boss.notifyWorker(workers[0]);
  },
  spans: () => clock.take(),
  quit: async () => {
    await boss.stop({ graceful: true, wait: true });
  },
});
sendEvent('ready');
