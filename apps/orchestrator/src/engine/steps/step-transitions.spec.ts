import { TaskPriority, TaskStatus } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import type { AgentRouter } from '../../delegation/agent-router.service.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { isItemRow, itemIndex, parseSubtaskWireId } from '../../persistence/step-keys.js';
import { rootState, newRootRow, type TaskRow } from '../../persistence/task-rows.js';
import type { Plan, PlannedStep, ReplacedPlan } from '../../planning/plan.js';
import type { PlanningService } from '../../planning/planning.service.js';
import type { MessagePublisher } from '../../transport/message-publisher.js';
import type { Dispatch } from '../effects.js';
import type { KeyGate } from '../concurrency/key-gate.js';
import { RunAdmission } from '../concurrency/run-admission.js';
import { RunSlots } from '../concurrency/run-slots.js';
import { SubmitTransition } from '../transitions/submit.transition.js';
import { Workflow, type WorkflowReads } from '../workflow.js';
import { ForEachSteps } from './for-each-steps.js';
import { AgentStep } from './agent-step.js';
import { SleepStep } from './sleep-step.js';
import { StepDispatcher } from './step-dispatcher.js';
import { StepKinds } from './step-kinds.js';
import { WaitStep } from './wait-step.js';
import { StepTransitions } from './step-transitions.js';

const step = (id: string, extra: Partial<PlannedStep> = {}): PlannedStep => ({
  id,
  agent: 'worker',
  capability: null,
  task_type: 'work',
  depends_on: [],
  input: {},
  timeout_ms: 1_000,
  max_attempts: 2,
  backoff: { initial_ms: 10, max_ms: 10 },
  fallbacks: [],
  optional: false,
  ...extra,
});

/** a gives a list; c runs one item per element, ten at a time; b runs beside a; d joins b and c. */
const plan: Plan = {
  task_type: 'fan',
  version: 1,
  revision: 1,
  timeout_ms: null,
  output: { count: { $expr: 'size(steps.c.result.items)' } },
  steps: [
    step('a'),
    step('b'),
    step('c', { depends_on: ['a'], for_each: 'steps.a.result.list', concurrency: 10, input: { n: { $ref: 'item' } } }),
    step('d', { depends_on: ['b', 'c'], input: { items: { $ref: 'steps.c.result.items' } } }),
  ],
};

/**
 * The engine's step logic over an in-memory table: each transition sees the rows of the plan's
 * steps and the rows it is about, as the database would give them, and what it changes is kept
 * for the next. Counts what each transition reads beyond that.
 */
class Harness {
  readonly table = new Map<string, TaskRow>();
  readonly itemKeysRead: string[] = [];
  itemResultReads = 0;
  readonly sent: Dispatch[] = [];
  readonly root: ReturnType<typeof rootState>;
  private readonly steps: StepTransitions;

  constructor() {
    const router = { route: () => Promise.resolve({ kind: 'agent', agent: 'worker', reserved: false, claims: [] }) } as unknown as AgentRouter;
    const publisher = { maxPayload: 1_048_576, maxBody: 1_047_552 } as MessagePublisher;
    const metrics = new MetricsService();
    const dispatcher = new StepDispatcher(router, publisher, metrics);
    this.steps = new StepTransitions(
      dispatcher,
      new ForEachSteps(),
      { hasPlanner: () => false } as unknown as PlanningService,
      publisher,
      metrics,
      new RunSlots(),
      new StepKinds(new AgentStep(dispatcher, metrics), new WaitStep(), new SleepStep()),
    );
    const request = { task_id: 'fan-1', task_type: 'fan', payload: {}, priority: TaskPriority.Normal };
    this.root = rootState(newRootRow({ request, plan, replyTo: null, traceparent: null, depth: 1, fingerprint: null, concurrencyKey: null }, new Date()), new Date());
  }

  private reads(): WorkflowReads {
    const stored = (id: string): TaskRow => {
      const row = this.table.get(id);
      if (!row) throw new Error(`no row ${id}`);
      return row;
    };
    return {
      requestPayload: () => Promise.resolve({}),
      result: (id) => Promise.resolve(stored(id).result ?? null),
      payload: (id) => Promise.resolve(stored(id).payload ?? {}),
      items: (parentId, keys) => {
        this.itemKeysRead.push(...keys);
        return Promise.resolve([...this.table.values()].filter((r) => r.parent_id === parentId && keys.includes(r.step_key)).map((r) => ({ ...r })));
      },
      itemResults: (parentId) => {
        this.itemResultReads += 1;
        const items = [...this.table.values()].filter((r) => r.parent_id === parentId);
        return Promise.resolve(items.sort((x, y) => itemIndex(x.step_key) - itemIndex(y.step_key)).map((r) => r.result ?? null));
      },
      planHistory: () => Promise.resolve([] as ReplacedPlan[]),
      keptSignals: () => Promise.resolve([]),
      signalSeen: () => Promise.resolve(false),
      keptEvents: () => Promise.resolve([]),
      gate: {} as KeyGate,
    };
  }

  /** One transition: the rows a transaction would read (without their jsonb), and what it wrote kept. */
  async transition(interest: string[], apply: (wf: Workflow, steps: StepTransitions) => Promise<void>): Promise<Workflow> {
    const strip = ({ payload: _p, result: _r, ...meta }: TaskRow): TaskRow => ({ ...meta });
    const rows = [...this.table.values()].filter((r) => (r.parent_id === this.root.id && !isItemRow(r)) || interest.includes(r.id)).map(strip);
    const wf = new Workflow(this.root, plan, rows, new Date(), this.reads());
    await apply(wf, this.steps);
    for (const row of [...wf.added.keys(), ...wf.dirty]) if (row !== wf.root) this.table.set(row.id, { ...this.table.get(row.id), ...row });
    for (const effect of wf.effects) if (effect.kind === 'dispatch') this.sent.push(effect);
    return wf;
  }

  async answer(dispatch: Dispatch | undefined, result: Record<string, unknown>): Promise<Workflow> {
    const ref = dispatch && parseSubtaskWireId(dispatch.subtaskId);
    if (!ref) throw new Error('not a wire id');
    return this.transition([ref.rowId], async (wf, steps) => {
      const row = wf.rows.get(ref.rowId);
      if (!row) throw new Error('answered row not read');
      await steps.complete(wf, row, result);
      await steps.advance(wf);
    });
  }

  take(stepKey: (key: string) => boolean): Dispatch[] {
    const taken = this.sent.filter((d) => stepKey(d.stepKey));
    for (const d of taken) this.sent.splice(this.sent.indexOf(d), 1);
    return taken;
  }
}

describe('StepTransitions with a for_each step', () => {
  it('sends items ten at a time, reads only the items it starts, and completes reading their results once', async () => {
    const h = new Harness();
    await h.transition([], (wf, steps) => new SubmitTransition(new RunAdmission(steps)).apply(wf));
    expect(h.sent.map((d) => d.stepKey).sort()).toEqual(['a', 'b']);
    const [a] = h.take((key) => key === 'a');
    const list = Array.from({ length: 1_000 }, (_, i) => i);
    await h.answer(a, { list });
    expect(h.sent.filter((d) => d.stepKey.startsWith('c[')).map((d) => d.stepKey)).toEqual(Array.from({ length: 10 }, (_, i) => `c[${i}]`));
    // The first ten were made by the transition that sent them: nothing read for them.
    expect(h.itemKeysRead).toEqual([]);

    // Answered out of order, one at a time: each answer sends the next item in list order.
    let answered = 0;
    while (answered < list.length) {
      const inFlight = h.take((key) => key.startsWith('c['));
      expect(inFlight.length).toBeLessThanOrEqual(10);
      for (const dispatch of inFlight.reverse()) {
        await h.answer(dispatch, { n: itemIndex(dispatch.stepKey) * 2 });
        answered += 1;
      }
    }
    expect(h.itemKeysRead).toHaveLength(list.length - 10);
    expect(new Set(h.itemKeysRead).size).toBe(list.length - 10);
    expect(h.itemResultReads).toBe(1);
    const c = [...h.table.values()].find((r) => r.step_key === 'c');
    expect(c).toMatchObject({ status: TaskStatus.Completed, item_count: 1_000, items_started: 1_000, items_done: 1_000 });
    expect((c?.result as { items: { n: number }[] }).items.map((item) => item.n)).toEqual(list.map((i) => i * 2));

    // The join waits for b, then sees every item.
    expect(h.take((key) => key === 'd')).toEqual([]);
    const [b] = h.take((key) => key === 'b');
    await h.answer(b, {});
    const [d] = h.take((key) => key === 'd');
    const input = JSON.parse(new TextDecoder().decode(d?.data)) as { payload: { items: unknown[] } };
    expect(input.payload.items).toHaveLength(1_000);
  });

  it('fails the step when an item fails for good, and stops the other items', async () => {
    const h = new Harness();
    await h.transition([], (wf, steps) => new SubmitTransition(new RunAdmission(steps)).apply(wf));
    const [a] = h.take((key) => key === 'a');
    await h.answer(a, { list: [1, 2, 3] });
    const items = h.take((key) => key.startsWith('c['));
    const failing = items[1];
    const ref = failing && parseSubtaskWireId(failing.subtaskId);
    const wf = await h.transition([ref?.rowId ?? ''], async (w, steps) => {
      const row = w.rows.get(ref?.rowId ?? '') as TaskRow;
      await steps.failAttempt(w, row, 'first', 'answered');
      row.attempts = 2; // as if its retry was sent and failed too
      row.status = TaskStatus.Running;
      await steps.failAttempt(w, row, 'second', 'answered');
      await steps.advance(w);
    });
    expect(wf.root.status).toBe(TaskStatus.Failed);
    expect(wf.root.error).toBe('step "c" (agent worker) failed: item 1 of 3 failed after 2 attempts: second');
    // Items not in memory are cancelled by the batch's write: asked for by the item's step, then the workflow.
    expect(wf.stops.map((s) => [s.whole, s.reason])).toEqual([[false, 'step c failed']]);
  });
});
