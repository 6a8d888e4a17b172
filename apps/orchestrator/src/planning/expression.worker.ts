import { parentPort, workerData } from 'node:worker_threads';
import { jobOutcome, type ExpressionJob, type ExpressionSettings } from './expression-jobs.js';

/** A thread of ExpressionPool: says when it is ready, then runs one job at a time and posts its outcome. */
const settings = workerData as ExpressionSettings;
parentPort?.on('message', ({ id, job }: { id: number; job: ExpressionJob }) => {
  parentPort?.postMessage({ id, outcome: jobOutcome(job, settings) });
});
parentPort?.postMessage({ ready: true });
