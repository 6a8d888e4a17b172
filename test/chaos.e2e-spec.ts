import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskEvent, taskEventSubject } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { ResilientRequester } from './support/resilient-requester.js';
import { useTestStack } from './support/test-stack.js';

const WORKFLOWS = 1_000;
const KILLS = 3;

/** 1,000 create_blog_post workflows while the orchestrator is killed with SIGKILL and restarted. */
describe('chaos: the orchestrator killed at random moments', () => {
  const workflowsDir = mkdtempSync(join(tmpdir(), 'chaos-workflows-'));
  const stack = useTestStack({
    workflowsDir,
    // Core NATS intake: its requester resubmits what met no responders while the only replica was
    // down. Under durable intake such requests are kept but not their reply subjects (see
    // test/durable-intake.e2e-spec.ts for a replica killed there).
    env: { DURABLE_INTAKE: 'off' },
    demoAgents: true,
    waitForAgents: 5,
    before: () => {
      // The repository's workflow, with a shorter step deadline so that lost sub-tasks come round sooner.
      const original = readFileSync(join(new URL('..', import.meta.url).pathname, 'workflows', 'create_blog_post.yaml'), 'utf8');
      const shortened = original.replace('timeout_ms: 30000', 'timeout_ms: 3000');
      expect(shortened).not.toBe(original);
      writeFileSync(join(workflowsDir, 'create_blog_post.yaml'), shortened);
    },
  });

  it('completes all 1,000, each with one final outcome, and applies no step twice', async () => {
    const started = Date.now();
    const requester = new ResilientRequester(stack.nats, 'e2e.chaos.replies', () => stack.orchestrator.baseUrl);
    const progress = stack.nats.collect(taskEventSubject(TaskEvent.Progress));
    await requester.start();
    const submitting = requester.submitPaced(
      Array.from({ length: WORKFLOWS }, (_, i) => ({ task_id: `chaos-${i}`, task_type: 'create_blog_post', payload: { topic: `Chaos ${i}` } })),
      20,
      100,
    );

    let kills = 0;
    const killedAt: number[] = [];
    const killing = (async () => {
      while (kills < KILLS) {
        await sleep(500 + Math.random() * 1_500);
        await stack.orchestrator.kill();
        killedAt.push(Date.now());
        kills += 1;
        await stack.restart();
      }
    })();

    try {
      await Promise.all([submitting, killing]);
      await waitFor(`final responses for all ${WORKFLOWS}`, () => (requester.finals.size === WORKFLOWS ? true : undefined), 240_000, 200);
      await sleep(2_000); // anything sent twice would arrive by now
    } finally {
      requester.stop();
      progress.stop();
    }
    const terminal = requester.finals;

    const seconds = (Date.now() - started) / 1000;
    const repeated = [...terminal.values()].filter((responses) => responses.length > 1);
    const duplicates = repeated.length;
    // A copy can only come from the sweeper resending a final response whose sender died between
    // publishing it and recording that it did: the same response, never a second outcome.
    for (const responses of repeated) for (const copy of responses) expect(copy).toEqual(responses[0]);
    // ...and only for workflows that finished in the moments before a SIGKILL.
    const nearAKill = repeated.every((responses) => {
      const completedMs = Number(responses[0]?.['completed_at']) * 1000;
      return killedAt.some((at) => at >= completedMs && at - completedMs < 3_000);
    });
    const notCompleted = [...terminal.values()].filter((responses) => responses[0]?.['status'] !== 'COMPLETED').length;
    const [{ roots }] = await stack.db.query<{ roots: number }>(`SELECT count(*)::int AS roots FROM tasks WHERE parent_id IS NULL AND status = 'COMPLETED'`);
    const [{ steps, attempts }] = await stack.db.query<{ steps: number; attempts: number }>(
      `SELECT count(*)::int AS steps, sum(attempts)::int AS attempts FROM tasks WHERE parent_id IS NOT NULL AND status = 'COMPLETED'`,
    );
    const applied = new Map<string, number>();
    for (const event of progress.messages) {
      if (event['status'] !== 'COMPLETED') continue;
      const key = `${String(event['task_id'])}/${String(event['step'])}`;
      applied.set(key, (applied.get(key) ?? 0) + 1);
    }
    const appliedTwice = [...applied.values()].filter((n) => n > 1).length;
    console.log(
      `chaos: ${WORKFLOWS} workflows, ${kills} SIGKILLs, ${seconds.toFixed(1)} s; ` +
        `${requester.noResponders} submissions refused while down, ${requester.resubmitted} resubmitted; ` +
        `${roots} COMPLETED, ${steps} steps in ${attempts} attempts (${attempts - steps} retried); ` +
        `${duplicates} final responses sent twice (identical, sender killed after publishing); ${appliedTwice} steps applied twice`,
    );
    expect(kills).toBe(KILLS);
    expect(notCompleted).toBe(0);
    expect(nearAKill).toBe(true);
    expect(roots).toBe(WORKFLOWS);
    expect(steps).toBe(WORKFLOWS * 5);
    expect(appliedTwice).toBe(0);
  });
});
