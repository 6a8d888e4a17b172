import { Injectable } from '@nestjs/common';
import { HistoryKind, TaskStatus } from '@orchestrator/contracts';
import { AgentRouter } from '../../delegation/agent-router.service.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import type { TaskRow } from '../../persistence/task-rows.js';
import { MessagePublisher } from '../../transport/message-publisher.js';
import { SweepSignal } from '../sweep-signal.js';
import type { Workflow } from '../workflow.js';
import { subtaskDispatch, subtaskRequest } from './subtask-message.js';

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
    private readonly sweep: SweepSignal,
  ) {}

  /** `storeInput`: the input is new (a step's first attempt) and is kept with the row. */
  async dispatch(wf: Workflow, row: TaskRow, input: Record<string, unknown>, storeInput: boolean): Promise<DispatchOutcome> {
    const planned = wf.planned(row);
    const attempt = row.attempts + 1;
    const sent = { rowId: row.id, attempt, taskType: planned.task_type, input, priority: wf.root.priority, stepKey: row.step_key, at: wf.now };
    const request = subtaskRequest(sent);
    const { subtaskId, data } = request;
    const limit = this.publisher.maxBody;
    if (data.length > limit) {
      return { kind: 'refused', error: `input: the sub-task is ${data.length} bytes; the NATS server takes messages of at most ${limit} bytes` };
    }
    const deadline = new Date(wf.now.getTime() + planned.timeout_ms);
    const previous = row.attempts > 0 ? row.agent_name : null;
    const route = await this.router.route(planned, attempt, previous, subtaskId, deadline.getTime());
    if (route.kind === 'wait') {
      // Waiting is not an attempt. For a slot on a busy agent it lasts as long as it takes (the
      // workflow's deadline bounds it); with no agent able to do the step, at most its timeout.
      const waitingUntil = route.why === 'no-candidate' ? (row.deadline_at ?? deadline) : null;
      if (waitingUntil !== null && waitingUntil <= wf.now) return { kind: 'refused', error: route.reason };
      // Due at once: waiting steps are taken in priority order whenever the sweeper runs (at its
      // interval, and as soon as a slot comes free), so a later CRITICAL step passes earlier LOW ones.
      wf.patch(row, {
        next_attempt_at: row.next_attempt_at ?? wf.now,
        deadline_at: waitingUntil,
        waiting_on: route.why === 'at-capacity' ? route.agents.join(',') : null,
      });
      if (route.why === 'at-capacity') {
        for (const agent of route.agents) wf.blockedOn.add(agent);
        this.metrics.capacityWaits.inc();
        this.sweep.capacityWait();
      }
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
      started_at: row.started_at ?? wf.now,
      ...(storeInput ? { payload: input } : {}),
    });
    wf.record(HistoryKind.Dispatched, row.step_key, { agent, attempt });
    wf.effects.push({ kind: 'dispatch', ...subtaskDispatch(agent, sent, wf.root, request) });
    return { kind: 'sent' };
  }
}
