import { Injectable } from '@nestjs/common';
import { addUsage, type Usage } from '@orchestrator/contracts';
import { isCurrentKey, isItemRow, itemIndex, planKey } from '../persistence/step-keys.js';
import type { TaskEntity } from '../persistence/task.entity.js';
import { TasksRepository, type ListedRoot, type ListPosition, type StepCounts } from '../persistence/tasks.repository.js';
import { encodeCursor } from './list-cursor.js';
import { stepWaitView } from './step-wait-view.js';
import type { ListTasksQuery, TaskDetailView, TaskListView, TaskSummaryView } from './task-status.dto.js';

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

/** Read-only views of tasks for the status endpoints. */
@Injectable()
export class TaskStatusService {
  constructor(private readonly tasks: TasksRepository) {}

  async get(taskId: string): Promise<TaskDetailView | null> {
    const root = await this.tasks.findRootByTaskId(taskId);
    if (!root) return null;
    const steps = await this.tasks.findSteps(root.id);
    const done = steps.filter((s) => s.completed_at !== null).length;
    const planned = new Map((root.plan?.steps ?? []).map((s, index) => [s.id, { s, index }]));
    // Plan order; the items of a `for_each` step follow it in list order.
    // Rows of steps a revised plan dropped come last.
    const order = (step: TaskEntity): [number, number] => [
      (isCurrentKey(step.step_key ?? '') ? planned.get(planKey(step.step_key ?? ''))?.index : undefined) ?? Number.MAX_SAFE_INTEGER,
      itemIndex(step.step_key ?? ''),
    ];
    steps.sort((a, b) => {
      const [x, y] = [order(a), order(b)];
      return x[0] - y[0] || x[1] - y[1];
    });
    // A `for_each` step's usage is its items'.
    const itemsUsage = new Map<string, Usage | null>();
    for (const step of steps) if (isItemRow(step) && step.parent_id) itemsUsage.set(step.parent_id, addUsage(itemsUsage.get(step.parent_id), step.usage));
    return {
      ...this.summary(root, { done, total: steps.length }),
      payload: root.payload,
      result: root.result,
      workflow: root.plan ? { task_type: root.plan.task_type, version: root.plan.version } : null,
      plan: root.plan,
      plan_history: root.plan_history ?? [],
      steps: steps.map((step) => ({
        step: step.step_key ?? '',
        task_type: step.task_type,
        agent: step.agent_name,
        status: step.status,
        depends_on: isItemRow(step) ? [] : (planned.get(step.step_key ?? '')?.s.depends_on ?? []),
        attempts: step.attempts,
        max_attempts: step.max_attempts,
        input: step.payload,
        started_at: iso(step.started_at),
        completed_at: iso(step.completed_at),
        next_attempt_at: iso(step.next_attempt_at),
        deadline_at: iso(step.deadline_at),
        result: step.result,
        error: step.error,
        progress: step.progress,
        usage: step.item_count === null ? step.usage : (itemsUsage.get(step.id) ?? null),
        wait: isItemRow(step) ? null : stepWaitView(planned.get(step.step_key ?? '')?.s, step),
      })),
      usage: root.usage,
      budget: root.budget,
    };
  }

  /** A page of tasks, newest first, after the position a cursor names. */
  async list(query: ListTasksQuery, after: ListPosition | undefined): Promise<TaskListView> {
    const { items, more, total } = await this.tasks.listRoots({ status: query.status, task_type: query.task_type, limit: query.limit, after, count: query.count === 'true' });
    const counts = await this.tasks.stepCounts(items.map((root) => root.id));
    const last = items.at(-1);
    return {
      items: items.map((root) => this.summary(root, counts.get(root.id) ?? { done: 0, total: 0 })),
      limit: query.limit,
      next_cursor: more && last ? encodeCursor(last.position) : null,
      ...(total === null ? {} : { total }),
    };
  }

  private summary(root: Omit<ListedRoot, 'position'>, progress: StepCounts): TaskSummaryView {
    return {
      task_id: root.task_id,
      task_type: root.task_type,
      status: root.status,
      priority: root.priority,
      requester_id: root.requester_id,
      progress,
      created_at: root.created_at.toISOString(),
      started_at: iso(root.started_at),
      completed_at: iso(root.completed_at),
      error: root.error,
      not_before: iso(root.not_before),
    };
  }
}
