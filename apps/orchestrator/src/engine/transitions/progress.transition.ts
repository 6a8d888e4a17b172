import { Injectable, Logger } from '@nestjs/common';
import { HistoryKind, TaskStatus } from '@orchestrator/contracts';
import { RefusedAnswers } from '../refused-answers.js';
import type { Workflow } from '../workflow.js';

/** What an agent reported of one attempt of a sub-task (`agent.<name>.progress`). */
export interface ProgressReportIn {
  rowId: string;
  attempt: number;
  /** The agent it came from: the name in its subject. */
  sender: string;
  /** The sub-task id as the agent gave it, for log lines. */
  subtaskId: string;
  fraction: number;
  message: string | null;
}

export type ProgressOutcome = 'applied' | 'dropped' | 'refused';

/**
 * Progress counts like an answer does: only for the attempt that runs now, and only from the agent
 * it was sent to. It is kept on the row (the latest) and added to the workflow's history.
 */
@Injectable()
export class ProgressTransition {
  private readonly logger = new Logger(ProgressTransition.name);

  constructor(private readonly refused: RefusedAnswers) {}

  apply(wf: Workflow | null, report: ProgressReportIn): ProgressOutcome {
    const row = wf?.rows.get(report.rowId);
    if (!wf || wf.finished || !row || row.status !== TaskStatus.Running || row.attempts !== report.attempt) {
      this.logger.debug(`dropped progress for ${report.subtaskId}: not an attempt that runs now`);
      return 'dropped';
    }
    if (row.agent_name !== report.sender) {
      this.refused.refuse('sender', report.sender, `progress for ${report.subtaskId}, sent to ${row.agent_name ?? 'no agent'}, from ${report.sender}`);
      return 'refused';
    }
    const { fraction, message, attempt } = report;
    wf.progress.set(row.id, { fraction, message, attempt, at: wf.now.toISOString() });
    wf.record(HistoryKind.Progress, row.step_key, { fraction, message, attempt });
    return 'applied';
  }
}
