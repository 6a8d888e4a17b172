import { Injectable, Logger } from '@nestjs/common';
import { HistoryKind, TaskStatus, type TaskResponse } from '@orchestrator/contracts';
import { MetricsService } from '../../metrics/metrics.service.js';
import { EngineStats } from '../engine-stats.js';
import { RefusedAnswers } from '../refused-answers.js';
import { StepTransitions } from '../steps/step-transitions.js';
import { UsageLedger } from '../usage-ledger.js';
import type { Workflow } from '../workflow.js';

/** An agent's answer to one attempt of a sub-task. */
export interface Answer {
  response: TaskResponse;
  rowId: string;
  attempt: number;
  /** The subject it came on, for log lines. */
  via: string;
  /** The agent it came from (`agent.<name>.response`); null on the attempt's own reply subject, or from the orchestrator itself. */
  sender: string | null;
}

/**
 * An answer is applied to the attempt it names: the first terminal answer for the attempt that is
 * running wins; late, duplicate and unknown answers are dropped, and so is one from another agent
 * than the attempt was sent to. Returns the agent of the attempt it applied to.
 */
@Injectable()
export class AnswerTransition {
  private readonly logger = new Logger(AnswerTransition.name);

  constructor(
    private readonly steps: StepTransitions,
    private readonly stats: EngineStats,
    private readonly metrics: MetricsService,
    private readonly refused: RefusedAnswers,
    private readonly usage: UsageLedger,
  ) {}

  async apply(wf: Workflow | null, answer: Answer): Promise<string | null> {
    const { response, via } = answer;
    if (!wf) {
      this.logger.warn(`dropped a response on ${via} for unknown sub-task ${response.task_id}`);
      return null;
    }
    const row = wf.rows.get(answer.rowId);
    if (wf.finished || !row || row.status !== TaskStatus.Running || row.attempts !== answer.attempt) {
      this.stats.responsesDropped += 1;
      this.metrics.responsesDropped.inc();
      const state = wf.finished ? `workflow is ${wf.root.status}` : `step is ${row?.status ?? 'unknown'}, attempt ${row?.attempts ?? '-'}`;
      this.logger.log(`dropped a late or duplicate ${response.status} response on ${via} for ${response.task_id} (${state})`);
      return null;
    }
    // The attempt it names is running: it counts only from the agent that attempt was sent to.
    if (answer.sender !== null && row.agent_name !== answer.sender) {
      this.refused.refuse('sender', answer.sender, `an answer for ${response.task_id}, sent to ${row.agent_name ?? 'no agent'}, from ${answer.sender}`);
      return null;
    }
    const agent = row.agent_name;
    if (response.status === TaskStatus.Pending || response.status === TaskStatus.Queued || response.status === TaskStatus.Running || response.status === TaskStatus.Waiting) return null;
    wf.record(HistoryKind.Answered, row.step_key, {
      agent,
      attempt: row.attempts,
      status: response.status,
      ...(response.error ? { error: response.error } : {}),
      ...(response.usage ? { usage: response.usage } : {}),
    });
    this.usage.record(wf, row, response.usage);
    switch (response.status) {
      case TaskStatus.Completed:
        this.observe(wf, agent, response.status, row.updated_at);
        await this.steps.complete(wf, row, response.result ?? {});
        break;
      case TaskStatus.Failed:
      case TaskStatus.Cancelled:
        this.observe(wf, agent, response.status, row.updated_at);
        await this.steps.failAttempt(wf, row, response.error ?? `agent answered ${response.status} without an error`, 'answered');
        break;
    }
    // Past its budget the workflow stops: nothing more is sent.
    const exceeded = this.usage.exceeded(wf);
    if (exceeded) await this.steps.failWorkflow(wf, exceeded);
    else await this.steps.advance(wf);
    return agent;
  }

  /** `dispatchedAt`: the row was last written when this attempt was sent. */
  private observe(wf: Workflow, agent: string | null, outcome: TaskStatus, dispatchedAt: Date): void {
    this.stats.responsesApplied += 1;
    this.metrics.stepDuration.observe({ agent: agent ?? 'unknown', outcome }, (wf.now.getTime() - dispatchedAt.getTime()) / 1000);
  }
}
