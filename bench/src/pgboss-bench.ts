import { join } from 'node:path';
import PgBoss from 'pg-boss';
import { stepQueues } from './chain.js';
import { ControlledChild } from './child-process.js';
import { ChainSide, Completions } from './side.js';

/** pg-boss keeps its tables in this schema of the bench database, apart from the orchestrator's. */
export const PGBOSS_SCHEMA = 'pgboss';

/**
 * The same five-step chain on pg-boss: the bench sends each chain's first job, workers in a
 * process of their own run the steps (bench/src/children/pgboss-workers.ts), `woken` or by polling
 * alone, and tell the bench when a chain's last job is completed.
 */
export class PgBossSide extends ChainSide {
  private readonly completions: Completions;
  private readonly queue: string;

  private constructor(
    options: { label: string; short: string; woken: boolean; latencyRuns?: number },
    worker: ControlledChild,
    private readonly boss: PgBoss,
    queuePrefix: string,
  ) {
    super(options.label, options.short, worker, options.latencyRuns);
    this.woken = options.woken;
    this.queue = stepQueues(queuePrefix)[0];
    this.completions = new Completions(worker);
  }

  private readonly woken: boolean;

  /** The bench's own pg-boss instance: it makes the schema and the queues, and sends first jobs. */
  static async client(databaseUrl: string): Promise<PgBoss> {
    const boss = new PgBoss({ connectionString: databaseUrl, schema: PGBOSS_SCHEMA, schedule: false });
    boss.on('error', (error) => console.error(`pg-boss: ${error.message}`));
    await boss.start();
    return boss;
  }

  static async start(
    options: { label: string; short: string; woken: boolean; latencyRuns?: number },
    boss: PgBoss,
    databaseUrl: string,
    bench: string,
  ): Promise<PgBossSide> {
    const prefix = options.woken ? 'bench-woken-step' : 'bench-polling-step';
    for (const queue of stepQueues(prefix)) await boss.createQueue(queue);
    const worker = await ControlledChild.start(options.short, process.execPath, [join(bench, 'dist/children/pgboss-workers.js')], {
      DATABASE_URL: databaseUrl,
      BENCH_PGBOSS_SCHEMA: PGBOSS_SCHEMA,
      BENCH_PGBOSS_QUEUE_PREFIX: prefix,
      BENCH_PGBOSS_WOKEN: options.woken ? '1' : '0',
    });
    return new PgBossSide(options, worker, boss, prefix);
  }

  async runMany(ids: readonly string[]): Promise<void> {
    await Promise.all([...ids.map((id) => this.completions.of(id)), this.send(ids)]);
  }

  async runOne(id: string): Promise<void> {
    await Promise.all([this.completions.of(id), this.send([id])]);
  }

  private async send(ids: readonly string[]): Promise<void> {
    await this.boss.insert(ids.map((id) => ({ name: this.queue, data: { id } })));
    if (this.woken) this.worker.tell('wake');
  }
}
