import { join } from 'node:path';
import { agentResponseSubject, externalEventSubject, ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'waits');
const WAITING = 10_000;
/** Of the waiting workflows, these many wait for the same invoice; the others for one each. */
const SHARED = 25;
const PAYER = 'e2e_payer';

describe('external events: one event resumes exactly the steps waiting for it, found by index', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, replicas: 2, env: (replica) => ({ INSTANCE_ID: `events-${replica + 1}` }) });

  const countWaiting = async (taskType: string): Promise<number> => {
    const [{ n }] = await stack.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE r.task_type = $1 AND s.status = 'WAITING'`,
      [taskType],
    );
    return n;
  };

  it(`resumes the ${SHARED} workflows waiting for one invoice among ${WAITING} waiting, and reports how long it took`, async () => {
    // Submitted in batches, published without waiting for answers: the database says when a batch waits.
    const ids = Array.from({ length: WAITING }, (_, i) => (i < SHARED ? 'inv-shared' : `inv-${i}`));
    const started = Date.now();
    const BATCH = 500;
    for (let at = 0; at < WAITING; at += BATCH) {
      for (let i = at; i < Math.min(WAITING, at + BATCH); i++) {
        stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id: `inv-wf-${i}`, task_type: 'e2e_invoice', payload: { invoice_id: ids[i] }, requester_id: PAYER });
      }
      await stack.nats.flush();
      const expected = Math.min(WAITING, at + BATCH);
      await waitFor(`${expected} workflows waiting`, async () => ((await countWaiting('e2e_invoice')) >= expected ? true : undefined), 120_000, 250);
    }
    console.log(`external events: ${WAITING} workflows waiting after ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // The lookup of an event is an index scan among waiting rows, whatever their number.
    const plan = await stack.db.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT id, root_id, wait_key FROM tasks WHERE status = 'WAITING' AND wait_key = ANY(ARRAY['event:x']::text[])`,
    );
    expect(plan.map((line) => line['QUERY PLAN']).join('\n')).toContain('tasks_waiting_key_idx');

    const finals = stack.nats.collect(agentResponseSubject(PAYER));
    const arrivals: number[] = [];
    const timing = stack.nats.nc.subscribe(agentResponseSubject(PAYER), { callback: () => void arrivals.push(performance.now()) });
    await stack.nats.flush();
    const published = performance.now();
    stack.nats.publish(externalEventSubject('payment.received'), { invoice_id: 'inv-shared', amount: 42, currency: 'EUR' });
    const answers = await finals.waitForCount(SHARED, 60_000);
    timing.unsubscribe();
    const [firstMs, lastMs] = [(arrivals[0] ?? published) - published, (arrivals.at(-1) ?? published) - published];
    expect(answers.map((answer) => answer['task_id']).sort()).toEqual(Array.from({ length: SHARED }, (_, i) => `inv-wf-${i}`).sort());
    for (const answer of answers) expect(answer).toMatchObject({ status: 'COMPLETED', result: { output: { invoice_id: 'inv-shared', amount: 42 } } });

    // Nothing else moved: every other workflow still waits.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(finals.messages).toHaveLength(SHARED);
    expect(await countWaiting('e2e_invoice')).toBe(WAITING - SHARED);

    const matchTimes = await Promise.all(stack.orchestrators.map((replica) => matchSeconds(replica.baseUrl)));
    const matched = matchTimes.find((times) => times.count > 0);
    console.log(
      `external events: one event among ${WAITING} waiting resumed ${SHARED} workflows; publish to first final response ${firstMs.toFixed(1)} ms, to the last ${lastMs.toFixed(1)} ms; ` +
        `finding the steps (shapes read, index lookup) ${matched ? ((matched.sum / matched.count) * 1000).toFixed(2) : '?'} ms`,
    );

    // One invoice among the others, by HTTP this time: exactly one workflow.
    const res = await fetch(`${stack.orchestrators[1]?.baseUrl ?? ''}/events/payment.received`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoice_id: 'inv-777', amount: 7 }),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ event: 'payment.received', resumed: 1, kept: false });
    await finals.waitForCount(SHARED + 1, 30_000);
    expect(finals.messages.at(-1)).toMatchObject({ task_id: 'inv-wf-777', status: 'COMPLETED', result: { output: { invoice_id: 'inv-777', amount: 7 } } });

    // A field of another type, another event name, a missing field: no match.
    for (const [name, body] of [
      ['payment.received', { invoice_id: 778, amount: 1 }],
      ['payment.refused', { invoice_id: 'inv-778' }],
      ['payment.received', { amount: 1 }],
    ] as const) {
      const miss = await fetch(`${stack.orchestrator.baseUrl}/events/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(await miss.json()).toEqual({ event: name, resumed: 0, kept: false });
    }
    expect(await countWaiting('e2e_invoice')).toBe(WAITING - SHARED - 1);
    finals.stop();
  });

  it('does not keep an event nobody waits for, unless a step asks for earlier events (lookback_ms)', async () => {
    const early = await fetch(`${stack.orchestrator.baseUrl}/events/payment.received`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoice_id: 'inv-early', amount: 1 }),
    });
    expect(await early.json()).toEqual({ event: 'payment.received', resumed: 0, kept: false });
    // A refund, kept for a minute: the workflow that waits for it starts later and takes it at once.
    stack.nats.publish(externalEventSubject('refund.issued'), { invoice_id: 'r-1', currency: 'EUR', amount: 5 });
    stack.nats.publish(externalEventSubject('refund.issued'), { invoice_id: 'r-1', currency: 'USD', amount: 6 });
    await stack.nats.flush();
    await waitFor('the refunds to be kept', async () => {
      const [{ n }] = await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM external_events WHERE event = 'refund.issued'`);
      return n === 2 ? true : undefined;
    });
    const refund = await stack.submit({ task_id: 'refund-1', task_type: 'e2e_invoice_late', payload: { invoice_id: 'r-1' } }, 30_000);
    expect(refund).toMatchObject({ status: 'COMPLETED', result: { output: { amount: 5 } } });

    stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id: 'early-1', task_type: 'e2e_invoice', payload: { invoice_id: 'inv-early' } });
    await waitFor('early-1 to wait', async () => {
      const [row] = await stack.db.query<{ status: string }>(`SELECT s.status FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE r.task_id = 'early-1' AND s.parent_id IS NOT NULL`);
      return row?.status === 'WAITING' ? true : undefined;
    });
    const history = await stack.get<{ items: { kind: string }[] }>('/tasks/early-1/events');
    expect(history.items.map((event) => event.kind)).toEqual(['submitted', 'planned', 'waiting']);
  });
});

/** The sum and count of `orchestrator_event_match_seconds` on one replica. */
async function matchSeconds(baseUrl: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const read = (name: string): number => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? 0);
  return { sum: read('orchestrator_event_match_seconds_sum'), count: read('orchestrator_event_match_seconds_count') };
}
