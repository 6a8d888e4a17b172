import { Injectable } from '@nestjs/common';
import { TaskStatus } from '@orchestrator/contracts';
import DataLoader from 'dataloader';
import { LRUCache } from 'lru-cache';
import { AttemptsRepository, type AttemptRow } from '../persistence/attempts.repository.js';
import { parseSubtaskWireId } from '../persistence/step-keys.js';

export type AttemptState = { kind: 'running'; agent: string | null } | { kind: 'unknown' } | { kind: 'not-running' };

/** Ids of rows that do not exist, remembered a while: made-up ids sent again cost nothing. */
const UNKNOWN_IDS = 10_000;
const UNKNOWN_TTL_MS = 60_000;

/**
 * Whether a sub-task attempt runs now, and where it was sent, read before anything about it takes
 * a transition: an answer or a progress report naming an attempt that is not running (an unknown
 * id, a late or duplicate answer) is dropped at the cost of one primary-key lookup, batched with
 * those of the same moment, and none at all for an unknown id seen lately. Safe because an
 * attempt is committed as running before it is sent (commit first, publish after): an answer can
 * only name an attempt this lookup finds running, and the transition checks again under its lock.
 */
@Injectable()
export class AttemptCheck {
  private readonly unknown = new LRUCache<string, true>({ max: UNKNOWN_IDS, ttl: UNKNOWN_TTL_MS });
  private readonly rows: DataLoader<string, AttemptRow | null>;

  constructor(attempts: AttemptsRepository) {
    this.rows = new DataLoader(
      async (ids) => {
        const found = new Map((await attempts.states(ids)).map((row) => [row.id, row]));
        return ids.map((id) => found.get(id) ?? null);
      },
      { cache: false, maxBatchSize: 500 },
    );
  }

  /** The state of the attempt a wire id (`<row id>:<attempt>`) names; `unknown` for one that is not of that shape. */
  async of(wireId: string): Promise<AttemptState> {
    const ref = parseSubtaskWireId(wireId);
    if (!ref || this.unknown.has(ref.rowId)) return { kind: 'unknown' };
    const row = await this.rows.load(ref.rowId);
    if (!row) {
      this.unknown.set(ref.rowId, true);
      return { kind: 'unknown' };
    }
    return row.status === TaskStatus.Running && row.attempts === ref.attempt ? { kind: 'running', agent: row.agent_name } : { kind: 'not-running' };
  }
}
