import { join } from 'node:path';
import { FlowProducer, QueueEvents, type FlowJob, type ConnectionOptions } from 'bullmq';
import { STEPS, stepQueues } from './chain.js';
import { ControlledChild } from './child-process.js';
import { ChainSide } from './side.js';
import { countdown } from './stats.js';

const QUEUES = stepQueues();

/** The same five-step chain as a BullMQ flow: one queue per step, the first step the deepest child, the last one's job id `id`. */
function chain(id: string): FlowJob {
  let job: FlowJob = { name: 'step', queueName: QUEUES[0], data: { id }, opts: { removeOnComplete: true } };
  for (const queueName of QUEUES.slice(1)) {
    job = { name: 'step', queueName, data: { id }, children: [job], opts: { removeOnComplete: true, removeOnFail: true } };
  }
  return { ...job, opts: { ...job.opts, jobId: id } };
}

function connectionOf(url: string): ConnectionOptions {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null };
}

/**
 * BullMQ on the Redis `redisUrl` points at (that server's persistence settings are the ones
 * measured): flows added and their completion heard (QueueEvents) here, workers in a process of
 * their own.
 */
export class BullmqSide extends ChainSide {
  private readonly flows: FlowProducer;
  private readonly events: QueueEvents;

  private constructor(label: string, short: string, worker: ControlledChild, connection: ConnectionOptions) {
    super(label, short, worker);
    this.flows = new FlowProducer({ connection });
    this.events = new QueueEvents(QUEUES[STEPS - 1], { connection });
  }

  static async start(label: string, short: string, redisUrl: string, bench: string): Promise<BullmqSide> {
    const worker = await ControlledChild.start(short, process.execPath, [join(bench, 'dist/children/bullmq-workers.js')], { BENCH_REDIS_URL: redisUrl });
    const side = new BullmqSide(label, short, worker, connectionOf(redisUrl));
    await side.events.waitUntilReady();
    return side;
  }

  async runMany(ids: readonly string[]): Promise<void> {
    const all = countdown(ids.length);
    this.events.on('completed', all.tick);
    await this.flows.addBulk(ids.map(chain));
    await all.done;
    this.events.off('completed', all.tick);
  }

  async runOne(id: string): Promise<void> {
    // Heard from the events, not asked of the job (`waitUntilFinished`): a job removed on
    // completion before it is asked counts as missing.
    const done = new Promise<void>((resolve) => {
      const completed = ({ jobId }: { jobId: string }): void => {
        if (jobId !== id) return;
        this.events.off('completed', completed);
        resolve();
      };
      this.events.on('completed', completed);
    });
    await this.flows.add(chain(id));
    await done;
  }

  override async close(): Promise<void> {
    await super.close();
    await this.flows.close();
    await this.events.close();
  }
}
