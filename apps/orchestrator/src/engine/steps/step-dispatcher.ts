import { Injectable } from '@nestjs/common';
import { HistoryKind, ORCHESTRATOR_AGENT_NAME, PRIORITY_RANK, TaskPriority, TaskStatus, type TaskRequest } from '@orchestrator/contracts';
import { AgentRouter } from '../../delegation/agent-router.service.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { subtaskWireId } from '../../persistence/step-keys.js';
import type { RootRow, TaskRow } from '../../persistence/task-rows.js';
import { childTraceparent } from '../../tracing/trace-context.js';
import { encodeJson, MessagePublisher } from '../../transport/message-publisher.js';
import { budgetLeft } from '../usage-ledger.js';
import { stepRateBucket } from './step-rate-limit.js';
import type { Workflow } from '../workflow.js';

export type DispatchOutcome = { kind: 'sent' } | { kind: 'waiting' } | { kind: 'refused'; error: string };

/**
 * Sends one attempt of a step (or of an item): picks the agent and takes a slot on it, marks the
 * row RUNNING with its attempt and deadline, and leaves the message to publish after the commit.
 * A step nobody can take now waits, durably; one that can never be sent is refused, for the
 * caller to fail.
 */
@Injectable()
export class StepDispatcher {
  constructor(
    private readonly router: AgentRouter,
    private readonly publisher: MessagePublisher,
    private readonly metrics: MetricsService,
  ) {}

  /** `storeInput`: the input is new (a step's first attempt) and is kept with the row. */
  async dispatch(wf: Workflow, row: TaskRow, input: Record<string, unknown>, storeInput: boolean): Promise<DispatchOutcome> {
    const planned = wf.planned(row);
    const attempt = row.attempts + 1;
    const subtaskId = subtaskWireId(row.id, attempt);
    const request: TaskRequest = {
      task_id: subtaskId,
      task_type: planned.task_type,
      payload: input,
      priority: wf.root.priority,
      requester_id: ORCHESTRATOR_AGENT_NAME,
      created_at: wf.now.getTime() / 1000,
    };
    // A child workflow may spend what its parent has left.
    const budget = planned.workflow === undefined ? undefined : budgetLeft(wf.root);
    if (budget) request.budget = budget;
    const data = encodeJson(request);
    const limit = this.publisher.maxBody;
    if (data.length > limit) {
      return { kind: 'refused', error: `input: the sub-task is ${data.length} bytes; the NATS server takes messages of at most ${limit} bytes` };
    }
    const deadline = new Date(wf.now.getTime() + planned.timeout_ms);
    const previous = row.attempts > 0 ? row.agent_name : null;
    let stepRate: Awaited<ReturnType<typeof stepRateBucket>>;
    try {
      stepRate = await stepRateBucket(wf, planned);
    } catch (error) {
      return { kind: 'refused', error: `rate_limit.key: ${(error as Error).message}` };
    }
    const route = await this.router.route(planned, attempt, previous, {
      member: subtaskId,
      rootId: wf.root.id,
      deadlineMs: deadline.getTime(),
      // Lines serve the lowest rank first: CRITICAL is 0.
      priority: PRIORITY_RANK[TaskPriority.Critical] - PRIORITY_RANK[wf.root.priority],
      fairnessKey: fairnessKeyOf(wf.root),
      stepRate,
    });
    // Steps of other workflows the move of a line put into slots: dispatched once this commits.
    if (route.claims.length > 0) wf.effects.push({ kind: 'claimed', claims: route.claims });
    if (route.kind === 'wait' && route.why === 'rate-limited') {
      // Waiting is not an attempt: the row comes due when a limit has room (time is data: the sweeper takes it then).
      if (row.waiting_on !== null) wf.effects.push({ kind: 'unqueue', queue: row.waiting_on, member: subtaskId });
      wf.patch(row, { next_attempt_at: new Date(Math.max(route.retryAtMs, wf.now.getTime())), deadline_at: null, waiting_on: null, queue_rank: null });
      this.metrics.rateLimitWaits.inc({ scope: route.scope });
      return { kind: 'waiting' };
    }
    if (route.kind === 'wait') {
      // Waiting is not an attempt. For a slot on a busy agent it lasts as long as it takes (the
      // workflow's deadline bounds it): the step waits in its line, not due, and the slot that
      // frees in its turn dispatches it. With no agent able to do the step, at most its timeout:
      // it is due then, unless an agent offering its capability comes first.
      const waitingUntil = route.why === 'no-candidate' ? (row.deadline_at ?? deadline) : null;
      if (waitingUntil !== null && waitingUntil <= wf.now) {
        wf.effects.push({ kind: 'unqueue', queue: route.queue, member: subtaskId });
        return { kind: 'refused', error: route.reason };
      }
      wf.patch(row, { next_attempt_at: waitingUntil, deadline_at: waitingUntil, waiting_on: route.queue, queue_rank: route.rank });
      if (route.why === 'at-capacity') this.metrics.capacityWaits.inc();
      return { kind: 'waiting' };
    }
    const agent = route.agent;
    if (route.reserved) wf.reservations.push({ agent, subtaskId });
    wf.patch(row, {
      status: TaskStatus.Running,
      attempts: attempt,
      agent_name: agent,
      next_attempt_at: null,
      deadline_at: deadline,
      waiting_on: null,
      queue_rank: null,
      started_at: row.started_at ?? wf.now,
      ...(storeInput ? { payload: input } : {}),
    });
    wf.record(HistoryKind.Dispatched, row.step_key, { agent, attempt });
    wf.effects.push({
      kind: 'dispatch',
      agent,
      data,
      subtaskId,
      attempt,
      rootTaskId: wf.root.task_id,
      stepKey: row.step_key,
      depth: agent === ORCHESTRATOR_AGENT_NAME ? wf.root.depth + 1 : null,
      fairnessKey: fairnessKeyOf(wf.root),
      traceparent: childTraceparent(wf.root.trace_parent, `dispatch ${row.step_key}`),
    });
    return { kind: 'sent' };
  }
}

/** Whose turn a workflow's steps take when agents are busy: its own key, else its requester. */
export function fairnessKeyOf(root: RootRow): string {
  return root.fairness_key ?? root.requester_id ?? '';
}
