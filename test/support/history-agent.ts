import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from '@orchestrator/agent-sdk';
import { testEnv } from './test-env.js';

/** One delivery of a sub-task to the agent. */
export interface Delivery {
  taskId: string;
  attempt: number;
  payload: Record<string, unknown>;
}

/**
 * The agent of the history fixtures (`e2e_hist`, task type `e2e_hist_work`): records every
 * delivery; fails an attempt up to `fail_attempts`, step "b" of a run in `failing`, an item in
 * `failingItems`; waits `delay_ms` (or 300 ms before failing "b", so that its siblings finish first).
 */
export class HistoryAgent {
  readonly deliveries: Delivery[] = [];
  readonly failing = new Set<string>();
  readonly failingItems = new Set<string>();
  readonly agent = new Agent({ name: 'e2e_hist', agentType: 'test', natsUrl: testEnv().natsUrl, maxConcurrency: 50, heartbeatIntervalMs: 1000 }).handle(
    'e2e_hist_work',
    async (payload, ctx) => {
      const attempt = Number(ctx.taskId.split(':')[1]);
      this.deliveries.push({ taskId: ctx.taskId, attempt, payload });
      const run = typeof payload['run'] === 'string' ? payload['run'] : '';
      if (typeof payload['fail_attempts'] === 'number' && attempt <= payload['fail_attempts']) throw new Error(`attempt ${attempt} fails`);
      if (payload['step'] === 'b' && this.failing.has(run)) {
        await sleep(300);
        throw new Error('b is down');
      }
      if (payload['step'] === 'each' && this.failingItems.has(`${run}/${String(payload['item'])}`)) throw new Error(`item ${String(payload['item'])} is bad`);
      if (typeof payload['delay_ms'] === 'number') await sleep(payload['delay_ms']);
      return { ...payload, attempt };
    },
  );

  /** Deliveries of the step `step` of run `run` (e2e_resume). */
  of(run: string, step: string): Delivery[] {
    return this.deliveries.filter((d) => d.payload['run'] === run && d.payload['step'] === step);
  }
}
