/**
 * graphile-worker tasks of the five-step chain: each step's task adds the next step's job; the last
 * tells the bench (event `done`). New jobs reach the workers by LISTEN/NOTIFY, at once. The settings
 * are those its documentation gives for throughput: a local queue that fetches jobs in batches, and
 * completions batched (without waiting). The bench hears of a chain's end when its last task
 * returns, before graphile-worker has marked that job complete: a little in graphile-worker's favour.
 */
import { Logger, run, type Runner, type TaskList } from 'graphile-worker';
import { graphileTask, STEPS } from '../chain.js';
import { monotonicNs } from '../stats.js';
import { sendEvent, serveControl, StepClock } from './control.js';

interface StepData {
  id: string;
}

const clock = new StepClock();
const taskList: TaskList = {};
for (let step = 0; step < STEPS; step++) {
  taskList[graphileTask(step)] = async (payload, helpers) => {
    const start = monotonicNs();
    const { id } = payload as StepData;
    if (step + 1 < STEPS) await helpers.addJob(graphileTask(step + 1), { id });
    // The span ends before the bench hears of the workflow's end.
    clock.record(start);
    if (step + 1 === STEPS) sendEvent('done', [id]);
  };
}
const quiet = new Logger(() => (level, message) => {
  if (String(level) === 'error') console.error(`graphile-worker: ${message}`);
});
let runner: Runner | undefined;

const stop = async (): Promise<void> => {
  await runner?.stop();
  runner = undefined;
};

serveControl({
  start: async () => {
    runner = await run({
      connectionString: process.env['DATABASE_URL'],
      concurrency: 50,
      noHandleSignals: true,
      logger: quiet,
      taskList,
      preset: { worker: { maxPoolSize: 20, localQueue: { size: 100 }, completeJobBatchDelay: 0 } },
    });
  },
  stop,
  spans: () => clock.take(),
  quit: stop,
});
sendEvent('ready');
