import { Injectable } from '@nestjs/common';
import type { Workflow } from '../workflow.js';

/**
 * How long a run marked for a look waits for the replica that marked it, which queues its
 * admission right after the commit, before the sweeper of any replica takes it instead.
 */
export const MARK_GRACE_MS = 1_000;

/**
 * A run of a concurrency key ended (or left the queue): under the key's lock, the oldest QUEUED
 * runs of the key, as many as there is room for now, are marked due (`next_attempt_at`) in the same
 * commit. After the commit this replica starts them at once; if it dies first, the marks are still
 * there and a sweeper starts them. A mark is only a reason to look: each run starts under the
 * key's lock, and only if there is room then.
 */
@Injectable()
export class RunSlots {
  async released(wf: Workflow): Promise<void> {
    const key = wf.root.concurrency_key;
    const policy = wf.plan.concurrency;
    if (key === null || !policy) return;
    await wf.reads.gate.decide(wf, key, async (view) => {
      let room = policy.max_runs - (await view.running());
      if (room <= 0) return;
      const at = new Date(wf.now.getTime() + MARK_GRACE_MS);
      const marked = await view.markQueued(room, at);
      room -= marked.length;
      // Runs of this very batch that wait: marked in memory, written with the batch.
      for (const member of view.queuedHere().slice(0, Math.max(0, room))) {
        member.patch(member.root, { next_attempt_at: at });
        marked.push(member.root.id);
      }
      if (marked.length > 0) wf.effects.push({ kind: 'admit', rootIds: marked });
    });
  }
}
