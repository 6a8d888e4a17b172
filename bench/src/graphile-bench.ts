import { join } from 'node:path';
import { makeWorkerUtils, type WorkerUtils } from 'graphile-worker';
import { graphileTask } from './chain.js';
import { ControlledChild } from './child-process.js';
import { ChainSide, Completions } from './side.js';

/** graphile-worker keeps its tables in this schema of the bench database. */
export const GRAPHILE_SCHEMA = 'graphile_worker';

/**
 * The same five-step chain on graphile-worker, PostgreSQL's job queue that LISTENs for new jobs:
 * the bench adds each chain's first job, workers in a process of their own
 * (bench/src/children/graphile-workers.ts) run the steps and tell the bench when a chain is done.
 */
export class GraphileSide extends ChainSide {
  private readonly completions: Completions;

  private constructor(
    label: string,
    short: string,
    worker: ControlledChild,
    private readonly utils: WorkerUtils,
  ) {
    super(label, short, worker);
    this.completions = new Completions(worker);
  }

  static async start(label: string, short: string, databaseUrl: string, bench: string): Promise<GraphileSide> {
    const utils = await makeWorkerUtils({ connectionString: databaseUrl });
    await utils.migrate();
    const worker = await ControlledChild.start(short, process.execPath, [join(bench, 'dist/children/graphile-workers.js')], { DATABASE_URL: databaseUrl });
    return new GraphileSide(label, short, worker, utils);
  }

  async runMany(ids: readonly string[]): Promise<void> {
    await Promise.all([...ids.map((id) => this.completions.of(id)), this.utils.addJobs(ids.map((id) => ({ identifier: graphileTask(0), payload: { id } })))]);
  }

  async runOne(id: string): Promise<void> {
    await Promise.all([this.completions.of(id), this.utils.addJob(graphileTask(0), { id })]);
  }

  override async close(): Promise<void> {
    await super.close();
    await this.utils.release();
  }
}
