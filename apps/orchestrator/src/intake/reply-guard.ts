import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { ReplyTokens } from '../delegation/reply-tokens.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { replySubjectProblem } from '../transport/reply-subjects.js';

/**
 * Where a request may be answered. A reply subject of the platform (see replySubjectProblem) is
 * never answered, and a child workflow is answered only on the signed reply subject of its own
 * sub-task: such requests are refused before anything is done, counted
 * (`orchestrator_requests_refused_total{reason="reply_subject"}`) and answered nowhere.
 */
@Injectable()
export class ReplyGuard {
  private readonly log = new ThrottledLog(new Logger(ReplyGuard.name), 100);

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly replies: ReplyTokens,
  ) {}

  /** Why the request may not be answered on `reply`; null when it may, or has no reply subject. `child`: the task_id a child workflow's request names. */
  problem(reply: string | undefined, child?: { taskId: unknown }): string | null {
    if (reply === undefined) return null;
    const problem = child
      ? this.replies.verify(reply)?.subtaskId === child.taskId
        ? null
        : 'reply: a child workflow is answered only on the reply subject an orchestrator made for its sub-task'
      : replySubjectProblem(reply, this.config.NATS_INBOX_PREFIX);
    if (problem) {
      this.metrics.requestsRefused.inc({ reason: 'reply_subject' });
      this.log.warn(child ? 'child' : 'reply', `refused a request: ${problem} (further ones are counted, not logged, for a minute)`);
    }
    return problem;
  }
}
