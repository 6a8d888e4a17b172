import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ORCHESTRATOR_TASK_SUBJECT, TaskEvent, taskEventSubject } from '@orchestrator/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDatabase } from './support/database.js';
import { PlainNatsClient } from './support/nats-client.js';
import { startDemoAgents, startOrchestrator, waitFor, type AppProcess } from './support/orchestrator-process.js';

const WORKFLOWS = 1_000;
const KILLS = 3;
const REPLIES = 'e2e.chaos.replies';
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/**
 * 1,000 create_blog_post workflows while the orchestrator is killed with SIGKILL and restarted.
 * The requester resubmits (same task_id) only what was never received: NATS said no one was
 * listening, or nothing came back for a while and the orchestrator does not know the task.
 */
describe('chaos: the orchestrator killed at random moments', () => {
  let db: TestDatabase;
  let nats: PlainNatsClient;
  let orchestrator: AppProcess;
  let agents: AppProcess;
  const workflowsDir = mkdtempSync(join(tmpdir(), 'chaos-workflows-'));

  beforeAll(async () => {
    db = await TestDatabase.connect();
    await db.reset();
    // The repository's workflow, with a shorter step deadline so that lost sub-tasks come round sooner.
    const original = readFileSync(join(new URL('..', import.meta.url).pathname, 'workflows', 'create_blog_post.yaml'), 'utf8');
    const shortened = original.replace('timeout_ms: 30000', 'timeout_ms: 3000');
    expect(shortened).not.toBe(original);
    writeFileSync(join(workflowsDir, 'create_blog_post.yaml'), shortened);
    orchestrator = await startOrchestrator({ workflowsDir });
    agents = startDemoAgents(mkdtempSync(join(tmpdir(), 'chaos-published-')));
    nats = await PlainNatsClient.connect();
    await waitFor('the five demo agents to be registered', async () => {
      const body = (await (await fetch(`${orchestrator.baseUrl}/agents`)).json()) as { items: unknown[] };
      return body.items.length === 5 ? true : undefined;
    });
  });

  afterAll(async () => {
    await nats?.close();
    await agents?.stop();
    await orchestrator?.stop();
    await db?.close();
  });

  it('completes all 1,000, each with one final outcome, and applies no step twice', async () => {
    const started = Date.now();
    const terminal = new Map<string, Record<string, unknown>[]>();
    const heard = new Set<string>();
    const sentAt = new Map<string, number>();
    let resubmitted = 0;
    let noResponders = 0;
    const progress = nats.collect(taskEventSubject(TaskEvent.Progress));

    const submit = (taskId: string): void => {
      sentAt.set(taskId, Date.now());
      nats.nc.publish(
        ORCHESTRATOR_TASK_SUBJECT,
        JSON.stringify({ task_id: taskId, task_type: 'create_blog_post', payload: { topic: `Chaos ${taskId}` } }),
        { reply: `${REPLIES}.${taskId}` },
      );
    };

    nats.nc.subscribe(`${REPLIES}.>`, {
      callback: (_error, msg) => {
        const taskId = msg.subject.slice(REPLIES.length + 1);
        if (msg.headers?.code === 503) {
          noResponders += 1;
          setTimeout(() => {
            resubmitted += 1;
            submit(taskId);
          }, 300);
          return;
        }
        heard.add(taskId);
        const response = msg.json<Record<string, unknown>>();
        if (TERMINAL.has(String(response['status']))) terminal.set(taskId, [...(terminal.get(taskId) ?? []), response]);
      },
    });
    await nats.flush();

    const ids = Array.from({ length: WORKFLOWS }, (_, i) => `chaos-${i}`);
    const submitting = (async () => {
      for (let i = 0; i < ids.length; i += 20) {
        ids.slice(i, i + 20).forEach(submit);
        await sleep(100);
      }
    })();

    let kills = 0;
    const killedAt: number[] = [];
    const killing = (async () => {
      while (kills < KILLS) {
        await sleep(500 + Math.random() * 1_500);
        await orchestrator.kill();
        killedAt.push(Date.now());
        kills += 1;
        orchestrator = await startOrchestrator({ workflowsDir });
      }
    })();

    // Nothing heard for a while and the orchestrator does not know the task: the request died with
    // the process that received it, before it was stored. A real client does the same check.
    let checking = false;
    const watchdog = setInterval(() => {
      if (checking) return;
      checking = true;
      void (async () => {
        for (const [taskId, at] of sentAt) {
          if (heard.has(taskId) || Date.now() - at < 10_000) continue;
          const res = await fetch(`${orchestrator.baseUrl}/tasks/${taskId}`).catch(() => null);
          if (res?.status === 404) {
            resubmitted += 1;
            submit(taskId);
          } else if (res?.status === 200) {
            sentAt.set(taskId, Date.now());
          }
        }
      })().finally(() => (checking = false));
    }, 1_000);

    try {
      await Promise.all([submitting, killing]);
      await waitFor(`final responses for all ${WORKFLOWS}`, () => (terminal.size === WORKFLOWS ? true : undefined), 240_000, 200);
      await sleep(2_000); // anything sent twice would arrive by now
    } finally {
      clearInterval(watchdog);
      progress.stop();
    }

    const seconds = (Date.now() - started) / 1000;
    const repeated = [...terminal.values()].filter((responses) => responses.length > 1);
    const duplicates = repeated.length;
    // A copy can only come from the sweeper resending a final response whose sender died between
    // publishing it and recording that it did: the same response, never a second outcome.
    for (const responses of repeated) for (const copy of responses) expect(copy).toEqual(responses[0]);
    // ...and only for workflows that finished in the moment before a SIGKILL.
    const nearAKill = repeated.every((responses) => {
      const completedMs = Number(responses[0]?.['completed_at']) * 1000;
      return killedAt.some((at) => at >= completedMs && at - completedMs < 1_000);
    });
    const notCompleted = [...terminal.values()].filter((responses) => responses[0]?.['status'] !== 'COMPLETED').length;
    const [{ roots }] = await db.query<{ roots: number }>(`SELECT count(*)::int AS roots FROM tasks WHERE parent_id IS NULL AND status = 'COMPLETED'`);
    const [{ steps, attempts }] = await db.query<{ steps: number; attempts: number }>(
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
        `${noResponders} submissions refused while down, ${resubmitted} resubmitted; ` +
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
