import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import { ORCHESTRATOR_REPLY_PREFIX, subtaskIdFromReplySubject } from '@orchestrator/contracts';
import { NatsClient } from '../transport/nats-client.js';
import { WorkflowEngine } from './workflow-engine.service.js';

const NO_RESPONDERS = 503;

/**
 * NATS answers a sub-task published to a subject nobody listens on with a 503 status on its reply
 * subject, delivered only to the publishing connection. That makes a missing agent a failed
 * attempt at once instead of at its deadline.
 */
@Injectable()
export class NoRespondersListener implements OnApplicationBootstrap {
  private readonly logger = new Logger(NoRespondersListener.name);
  private subscription: Subscription | undefined;

  constructor(
    private readonly nats: NatsClient,
    private readonly engine: WorkflowEngine,
  ) {}

  onApplicationBootstrap(): void {
    this.subscription = this.nats.connection.subscribe(`${ORCHESTRATOR_REPLY_PREFIX}.${this.nats.replicaId}.>`, {
      callback: (error, msg) => {
        if (error || msg.headers?.code !== NO_RESPONDERS) return;
        const subtaskId = subtaskIdFromReplySubject(msg.subject);
        if (!subtaskId) return;
        this.engine
          .applyNoResponders(subtaskId)
          .catch((e: unknown) => this.logger.error(`applying no-responders for ${subtaskId} failed: ${(e as Error).message}`));
      },
    });
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
  }
}
