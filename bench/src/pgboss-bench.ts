import PgBoss from 'pg-boss';
import { countdown, STEP_QUEUES, STEPS, timePerStep, timeThroughput, type ChainBench, type PerStep, type Throughput } from './stats.js';

/** pg-boss keeps its tables in this schema of the bench database, apart from the orchestrator's. */
export const PGBOSS_SCHEMA = 'pgboss';

// A pg-boss worker polls: it fetches up to a batch, runs the handler, completes the batch and then
// sleeps out the rest of the polling interval (0.5 s at the least), whether it found jobs or not;
// pg-boss 10 does not LISTEN for new jobs. `notifyWorker` cuts a sleep short, for a worker of the
// same process: a step's handler wakes the next step's worker once it has sent it its jobs, and its
// own when its batch was full (more are waiting). Without that, a chain running alone waits about
// one polling interval at every step.
const POLLING_INTERVAL_SECONDS = 0.5;
// As many jobs at a time as a BullMQ worker of this bench runs at once.
const BATCH_SIZE = 100;

interface StepData {
  id: string;
}

/** The same five-step chain on pg-boss: one queue per step, each job's handler sends the next. */
export class PgBossBench implements ChainBench {
  private readonly boss: PgBoss;
  private readonly workers: string[] = [];
  private finished: (id: string) => void = () => undefined;

  constructor(connectionString: string) {
    // No cron schedules are used: their clock is left off.
    this.boss = new PgBoss({ connectionString, schema: PGBOSS_SCHEMA, schedule: false });
    this.boss.on('error', (error) => console.error(`pg-boss: ${error.message}`));
  }

  async ready(): Promise<void> {
    await this.boss.start();
    for (const queue of STEP_QUEUES) await this.boss.createQueue(queue);
    for (const [step, queue] of STEP_QUEUES.entries()) {
      const options = { batchSize: BATCH_SIZE, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS };
      this.workers[step] = await this.boss.work<StepData>(queue, options, (jobs) => this.handle(step, jobs));
    }
  }

  private async handle(step: number, jobs: PgBoss.Job<StepData>[]): Promise<void> {
    if (jobs.length === BATCH_SIZE) this.boss.notifyWorker(this.workers[step]);
    if (step + 1 < STEPS) return this.send(step + 1, jobs.map((job) => job.data.id));
    // `work` completes a batch after its handler returns, and tells no one; the last step completes
    // its own, so that a chain is done once its last job is completed in the database.
    await this.boss.complete(STEP_QUEUES[step], jobs.map((job) => job.id));
    for (const job of jobs) this.finished(job.data.id);
  }

  private async send(step: number, ids: string[]): Promise<void> {
    await this.boss.insert(ids.map((id) => ({ name: STEP_QUEUES[step], data: { id } })));
    this.boss.notifyWorker(this.workers[step]);
  }

  async throughput(count: number, run: string): Promise<Throughput> {
    const all = countdown(count);
    this.finished = all.tick;
    return timeThroughput(count, async () => {
      await this.send(0, Array.from({ length: count }, (_, i) => `${run}-${i}`));
      await all.done;
    });
  }

  async perStep(runs: number, run: string): Promise<PerStep> {
    return timePerStep(runs, async (i) => {
      const id = `${run}-${i}`;
      const done = new Promise<void>((resolve) => {
        this.finished = (finished) => {
          if (finished === id) resolve();
        };
      });
      await this.send(0, [id]);
      await done;
    });
  }

  async close(): Promise<void> {
    await this.boss.stop();
  }
}
