import { Injectable, Logger } from '@nestjs/common';
import { TaskStatus } from '@orchestrator/contracts';
import { AppConfig } from '../config/app-config.js';
import { DelegationService } from '../delegation/delegation.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { UnsentDispatchesRepository, type UnsentAttempt } from '../persistence/unsent-dispatches.repository.js';
import { MessagePublisher } from '../transport/message-publisher.js';
import { subtaskDispatch, type SubtaskAttempt } from './steps/subtask-message.js';

const BATCH = 200;

/**
 * Publishes again the sub-task attempts that were committed but never marked published (their
 * replica died between its commit and its publish, or its connection to NATS did): the same
 * message under the same id, rebuilt from the row (its stored input) and its root, by whichever
 * replica's sweeper finds it first. An attempt that has ended meanwhile is only forgotten.
 */
@Injectable()
export class DispatchResender {
  private readonly logger = new Logger(DispatchResender.name);

  constructor(
    private readonly unsent: UnsentDispatchesRepository,
    private readonly delegation: DelegationService,
    private readonly publisher: MessagePublisher,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  /** One pass; returns how many attempts it published again. */
  async resendUnsent(): Promise<number> {
    if (!this.publisher.connected) return 0;
    let resent = 0;
    await this.unsent.resend(this.config.DISPATCH_RESEND_AFTER_MS, BATCH, async (attempts) => {
      for (const attempt of attempts) {
        if (!isRunning(attempt)) continue;
        try {
          this.delegation.dispatch(subtaskDispatch(attempt.agent_name, toAttempt(attempt), { ...attempt, task_id: attempt.root_task_id }));
          resent += 1;
        } catch (error) {
          this.logger.error(`sub-task ${attempt.row_id}:${attempt.attempt} cannot be published again: ${(error as Error).message}`);
        }
      }
      // Deleted only once NATS has them.
      await this.publisher.flush();
    });
    if (resent > 0) {
      this.metrics.subtasksResent.inc(resent);
      this.logger.warn(`published ${resent} sub-tasks again: they were committed but not marked published within ${this.config.DISPATCH_RESEND_AFTER_MS} ms`);
    }
    return resent;
  }
}

/** The attempt still runs: its row is RUNNING at that attempt, on an agent. */
function isRunning(attempt: UnsentAttempt): attempt is UnsentAttempt & { agent_name: string } {
  return attempt.status === TaskStatus.Running && attempt.attempts === attempt.attempt && attempt.agent_name !== null;
}

function toAttempt(row: UnsentAttempt): SubtaskAttempt {
  return {
    rowId: row.row_id,
    attempt: row.attempt,
    taskType: row.task_type,
    input: row.payload,
    priority: row.priority,
    stepKey: row.step_key,
    at: row.updated_at,
  };
}
