import { FlowProducer, QueueEvents, Worker, type FlowJob, type ConnectionOptions } from 'bullmq';
import { countdown, STEP_QUEUES, STEPS, timePerStep, timeThroughput, type ChainBench, type PerStep, type Throughput } from './stats.js';

/** The same five-step chain as a BullMQ flow: one queue per step, the first step the deepest child. */
function chain(id: string): FlowJob {
  let job: FlowJob = { name: 'step', queueName: STEP_QUEUES[0], data: { id }, opts: { removeOnComplete: true } };
  for (const queueName of STEP_QUEUES.slice(1)) {
    job = { name: 'step', queueName, data: { id }, children: [job], opts: { removeOnComplete: true, removeOnFail: true } };
  }
  return job;
}

/** BullMQ on the Redis `connection` points at: that server's persistence settings are the ones measured. */
export class BullmqBench implements ChainBench {
  private readonly workers: Worker[];
  private readonly flows: FlowProducer;
  private readonly events: QueueEvents;

  constructor(connection: ConnectionOptions) {
    this.workers = STEP_QUEUES.map((queue) => new Worker(queue, () => Promise.resolve({}), { connection, concurrency: 100 }));
    this.flows = new FlowProducer({ connection });
    this.events = new QueueEvents(STEP_QUEUES[STEPS - 1], { connection });
  }

  async ready(): Promise<void> {
    await Promise.all([...this.workers.map((w) => w.waitUntilReady()), this.events.waitUntilReady()]);
  }

  async throughput(count: number, run: string): Promise<Throughput> {
    const all = countdown(count);
    this.events.on('completed', all.tick);
    const result = await timeThroughput(count, async () => {
      await this.flows.addBulk(Array.from({ length: count }, (_, i) => chain(`${run}-${i}`)));
      await all.done;
    });
    this.events.off('completed', all.tick);
    return result;
  }

  async perStep(runs: number, run: string): Promise<PerStep> {
    return timePerStep(runs, async (i) => {
      const node = await this.flows.add(chain(`${run}-${i}`));
      await node.job.waitUntilFinished(this.events, 30_000);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await this.flows.close();
    await this.events.close();
  }
}
