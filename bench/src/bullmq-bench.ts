import { FlowProducer, QueueEvents, Worker, type FlowJob, type ConnectionOptions } from 'bullmq';
import { percentile, type PerStep, type Throughput } from './stats.js';

const STEPS = 5;
const QUEUES = Array.from({ length: STEPS }, (_, i) => `bench-step-${i + 1}`);

/** The same five-step chain as a BullMQ flow: one queue per step, the first step the deepest child. */
function chain(id: string): FlowJob {
  let job: FlowJob = { name: 'step', queueName: QUEUES[0], data: { id }, opts: { removeOnComplete: true } };
  for (const queueName of QUEUES.slice(1)) {
    job = { name: 'step', queueName, data: { id }, children: [job], opts: { removeOnComplete: true, removeOnFail: true } };
  }
  return job;
}

export class BullmqBench {
  private readonly workers: Worker[];
  private readonly flows: FlowProducer;
  private readonly events: QueueEvents;

  constructor(connection: ConnectionOptions) {
    this.workers = QUEUES.map((queue) => new Worker(queue, () => Promise.resolve({}), { connection, concurrency: 100 }));
    this.flows = new FlowProducer({ connection });
    this.events = new QueueEvents(QUEUES[STEPS - 1], { connection });
  }

  async ready(): Promise<void> {
    await Promise.all([...this.workers.map((w) => w.waitUntilReady()), this.events.waitUntilReady()]);
  }

  async throughput(count: number, run: string): Promise<Throughput> {
    let done = 0;
    let resolveAll: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (resolveAll = resolve));
    const onCompleted = (): void => {
      done += 1;
      if (done === count) resolveAll();
    };
    this.events.on('completed', onCompleted);
    const started = performance.now();
    await this.flows.addBulk(Array.from({ length: count }, (_, i) => chain(`${run}-${i}`)));
    await all;
    const seconds = (performance.now() - started) / 1000;
    this.events.off('completed', onCompleted);
    return { workflows: count, seconds, workflowsPerSecond: count / seconds, stepsPerSecond: (count * STEPS) / seconds };
  }

  async perStep(runs: number, run: string): Promise<PerStep> {
    const perStep: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const node = await this.flows.add(chain(`${run}-${i}`));
      await node.job.waitUntilFinished(this.events, 30_000);
      perStep.push((performance.now() - started) / STEPS);
    }
    return { runs, p50: percentile(perStep, 50), p99: percentile(perStep, 99) };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await this.flows.close();
    await this.events.close();
  }
}
