import { Injectable } from '@nestjs/common';
import { HistoryKind, isPlainObject, TaskStatus } from '@orchestrator/contracts';
import { MetricsService } from '../../metrics/metrics.service.js';
import type { TaskRow } from '../../persistence/task-rows.js';
import type { PlannedStep } from '../../planning/plan.js';
import { resolveTemplate } from '../../planning/template.js';
import type { Workflow } from '../workflow.js';
import { templateContext } from '../workflow-view.js';
import { STARTED, type StepKind, type StepOutcome } from './step-kind.js';
import { StepDispatcher } from './step-dispatcher.js';

/**
 * A step sent to an agent (`agent`, `capability`) or to the orchestrator itself (`workflow`): it
 * starts with its input built and its first attempt sent; an agent's answer completes or fails the
 * attempt (AnswerTransition); an attempt not answered by its deadline times out and may be retried.
 */
@Injectable()
export class AgentStep implements StepKind {
  constructor(
    private readonly dispatcher: StepDispatcher,
    private readonly metrics: MetricsService,
  ) {}

  async start(wf: Workflow, row: TaskRow, planned: PlannedStep): Promise<StepOutcome> {
    let input: unknown;
    try {
      input = resolveTemplate(planned.input, await templateContext(wf));
      if (!isPlainObject(input)) throw new Error('the step input must resolve to a JSON object');
    } catch (error) {
      // Retrying would build the same input.
      return { kind: 'failed', error: `input: ${(error as Error).message}` };
    }
    const outcome = await this.dispatcher.dispatch(wf, row, input, true);
    return outcome.kind === 'refused' ? { kind: 'failed', error: outcome.error } : STARTED;
  }

  due(wf: Workflow, row: TaskRow, planned: PlannedStep): Promise<StepOutcome> {
    if (row.status !== TaskStatus.Running || !row.deadline_at || row.deadline_at > wf.now) return Promise.resolve(STARTED);
    this.metrics.timeouts.inc({ agent: row.agent_name ?? 'unknown' });
    wf.record(HistoryKind.TimedOut, row.step_key, { agent: row.agent_name, attempt: row.attempts, timeout_ms: planned.timeout_ms });
    return Promise.resolve({ kind: 'attempt-failed', error: `agent ${row.agent_name ?? '?'} did not answer within ${planned.timeout_ms} ms` });
  }

  label(row: TaskRow): string {
    return `agent ${row.agent_name ?? '?'}`;
  }
}
