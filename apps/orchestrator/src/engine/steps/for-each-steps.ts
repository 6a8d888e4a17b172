import { Injectable } from '@nestjs/common';
import { TaskStatus } from '@orchestrator/contracts';
import { itemKey } from '../../persistence/step-keys.js';
import { newStepRow, type TaskRow } from '../../persistence/task-rows.js';
import type { PlannedStep } from '../../planning/plan.js';
import { Expressions } from '../../planning/expressions.js';
import { LIMITS } from '../../planning/workflow-definition.js';
import type { Workflow } from '../workflow.js';
import { templateContext } from '../workflow-view.js';

export type Expansion = { kind: 'expanded' } | { kind: 'failed'; error: string };

export type ItemsNext =
  | { kind: 'wait' }
  | { kind: 'start'; items: TaskRow[] }
  | { kind: 'complete'; results: unknown[] };

/**
 * `for_each` steps: one row per item, each with its input built when the list is expanded, sent
 * `concurrency` at a time in list order. The step's row counts its items (how many, how many
 * scheduled, how many completed), so that moving it on reads only the items it starts, and
 * completing it reads their results once: a list of n items costs O(n) in all.
 */
@Injectable()
export class ForEachSteps {
  constructor(private readonly expressions: Expressions) {}

  /** Evaluates the step's list and adds one row per item; the step runs until its items are done. */
  async expand(wf: Workflow, step: TaskRow, planned: PlannedStep, forEach: string): Promise<Expansion> {
    const context = await templateContext(wf);
    let inputs: Record<string, unknown>[];
    try {
      inputs = await this.expressions.expand(forEach, planned.input, context, LIMITS.forEachMaxItems);
    } catch (error) {
      return { kind: 'failed', error: `for_each: ${(error as Error).message}` };
    }
    wf.add(inputs.map((input, index) => newStepRow(planned, itemKey(planned.id, index), step.id, wf.root.id, wf.root.priority, input)));
    wf.patch(step, {
      status: TaskStatus.Running,
      payload: { items: inputs.length },
      item_count: inputs.length,
      items_started: 0,
      items_done: 0,
      started_at: wf.now,
    });
    return { kind: 'expanded' };
  }

  /** What a running `for_each` step needs next: more items sent (up to its concurrency), nothing, or to complete. */
  async next(wf: Workflow, step: TaskRow): Promise<ItemsNext> {
    const count = step.item_count ?? 0;
    if (step.items_done >= count) return { kind: 'complete', results: await wf.itemResults(step.id) };
    const concurrency = wf.planned(step).concurrency ?? LIMITS.concurrency.default;
    const room = Math.min(concurrency - (step.items_started - step.items_done), count - step.items_started);
    if (room <= 0) return { kind: 'wait' };
    const keys = Array.from({ length: room }, (_, i) => itemKey(step.step_key, step.items_started + i));
    const items = await wf.itemRows(step.id, keys);
    if (items.length !== keys.length) throw new Error(`step ${step.step_key} of ${wf.root.task_id} has ${items.length} of its items ${keys.join(', ')}`);
    wf.patch(step, { items_started: step.items_started + room });
    return { kind: 'start', items };
  }
}
