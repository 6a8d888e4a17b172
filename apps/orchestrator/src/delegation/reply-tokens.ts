import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { orchestratorReplySubject, parseReplySubject } from '@orchestrator/contracts';
import { SecretsRepository } from '../persistence/secrets.repository.js';

/** Characters of base64url kept from the digest: 132 bits. */
const TOKEN_CHARS = 22;

/**
 * The token in a sub-task's reply subject: a keyed digest (HMAC-SHA256) of the sub-task's wire id
 * under a secret every replica shares (stored in PostgreSQL, made by the first replica to start).
 * Only the agent the sub-task was sent to learns it, so an answer on a reply subject without the
 * right token was made up by someone else; any replica can check it, so an answer outlives the
 * replica that asked.
 */
@Injectable()
export class ReplyTokens implements OnModuleInit {
  private key: Buffer | undefined;

  constructor(private readonly secrets: SecretsRepository) {}

  async onModuleInit(): Promise<void> {
    this.key = Buffer.from(await this.secrets.shared('reply_token', randomBytes(32).toString('base64url')), 'base64url');
  }

  /** The reply subject of one attempt of a sub-task, for this replica. */
  subject(replicaId: string, subtaskId: string): string {
    return orchestratorReplySubject(replicaId, this.token(subtaskId), subtaskId);
  }

  /** The sub-task id a reply subject was made for, or null when it is not a reply subject or its token is not the orchestrators'. */
  verify(subject: string): { subtaskId: string; replica: string } | null {
    const parts = parseReplySubject(subject);
    if (!parts || !this.signed(parts.subtaskId, parts.token)) return null;
    return { subtaskId: parts.subtaskId, replica: parts.replica };
  }

  /** True when `token` is the orchestrators' for this sub-task id (see `token`). */
  signed(subtaskId: string, token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const expected = Buffer.from(this.token(subtaskId));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The token of a sub-task id: in its reply subject, and in an orchestrator's cancel of the child workflow it runs. */
  token(subtaskId: string): string {
    if (!this.key) throw new Error('reply tokens are used before their secret is read');
    return createHmac('sha256', this.key).update(subtaskId).digest('base64url').slice(0, TOKEN_CHARS);
  }
}
