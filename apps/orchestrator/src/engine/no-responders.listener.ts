import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ORCHESTRATOR_REPLY_PREFIX } from '@orchestrator/contracts';
import { ReplyTokens } from '../delegation/reply-tokens.js';
import { MessagePublisher } from '../transport/message-publisher.js';
import { WorkflowEngine } from './workflow-engine.service.js';

const NO_RESPONDERS = 503;

/**
 * NATS answers a sub-task published to a subject nobody listens on with a 503 status on its reply
 * subject, delivered only to the publishing connection. That makes a missing agent a failed
 * attempt at once instead of at its deadline.
 */
@Injectable()
export class NoRespondersListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NoRespondersListener.name);
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly publisher: MessagePublisher,
    private readonly engine: WorkflowEngine,
    private readonly replies: ReplyTokens,
  ) {}

  onApplicationBootstrap(): void {
    this.unsubscribe = this.publisher.subscribe(`${ORCHESTRATOR_REPLY_PREFIX}.${this.publisher.replicaId}.>`, (message) => {
      if (message.status !== NO_RESPONDERS) return;
      // Any publisher may set a status: the subject must be one an orchestrator made.
      const subtaskId = this.replies.verify(message.subject)?.subtaskId;
      if (!subtaskId) return;
      this.engine
        .applyNoResponders(subtaskId)
        .catch((e: unknown) => this.logger.error(`applying no-responders for ${subtaskId} failed: ${(e as Error).message}`));
    });
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
  }
}
