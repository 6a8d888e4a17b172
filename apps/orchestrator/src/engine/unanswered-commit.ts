import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@nestjs/common';
import { ExponentialBackoff } from 'cockatiel';
import type { TasksRepository } from '../persistence/tasks.repository.js';
import type { Changes, StoppedRow } from '../persistence/workflow-transaction.js';

/**
 * What is learnt of a transaction whose `COMMIT` went unanswered (its connection lost while the
 * close script ran), asked on other connections until the database answers: nothing may be given
 * back or applied again before that is known.
 */
export class UnansweredCommit {
  constructor(
    private readonly tasks: TasksRepository,
    private readonly logger: Logger,
  ) {}

  /** Whether transaction `xid` committed: asked until the server knows (it ends a transaction whose client is gone). */
  async outcome(xid: string): Promise<'committed' | 'aborted'> {
    const status = await this.untilAnswered(`whether transaction ${xid} committed`, async () => {
      const found = await this.tasks.transactionStatus(xid);
      return found === 'in progress' ? undefined : found;
    });
    this.logger.warn(`transaction ${xid}, whose commit went unanswered, ${status === 'committed' ? 'committed' : 'did not commit'}`);
    return status;
  }

  /** The rows its stops cancelled while they ran (the rows it held in memory, `known`, left out). */
  stopped(changes: Changes, known: readonly string[]): Promise<StoppedRow[]> {
    return this.untilAnswered('the rows a committed batch stopped', () => this.tasks.stoppedRows(changes.stops, changes.now, known));
  }

  private async untilAnswered<T>(what: string, ask: () => Promise<T | undefined>): Promise<T> {
    for (let backoff = new ExponentialBackoff({ initialDelay: 20, maxDelay: 1_000 }).next(); ; backoff = backoff.next(undefined)) {
      try {
        const answer = await ask();
        if (answer !== undefined) return answer;
      } catch (error) {
        this.logger.warn(`cannot tell yet ${what}: ${(error as Error).message}`);
      }
      await sleep(backoff.duration);
    }
  }
}
