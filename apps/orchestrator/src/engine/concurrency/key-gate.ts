import { createHash } from 'node:crypto';
import { TaskStatus } from '@orchestrator/contracts';
import type { WorkflowTransaction } from '../../persistence/workflow-transaction.js';
import type { Workflow } from '../workflow.js';

/** The lock a concurrency key is counted under: the first 32 bits of its SHA-1, signed (two keys may share one: they then wait for each other). */
export function keyLockId(key: string): number {
  return createHash('sha1').update(key).digest().readInt32BE(0);
}

/** A key's lock is held by another transaction, and taking it now could deadlock: the job runs again alone. */
export class KeyBusyError extends Error {
  constructor(key: string) {
    super(`the lock of concurrency key ${JSON.stringify(key)} is held by another transaction`);
    this.name = 'KeyBusyError';
  }
}

/** What a decision about one key sees, under the key's lock. */
export interface KeyView {
  /** Runs of the key RUNNING now: in the database, and those of this batch as they are in memory. */
  running(): Promise<number>;
  /** The workflows of this batch with the key that are QUEUED now, oldest first. */
  queuedHere(): Workflow[];
  /** Marks the `limit` oldest QUEUED runs of the key outside this batch due for a look; returns their ids. */
  markQueued(limit: number, at: Date): Promise<string[]>;
  /** The ids of the other unfinished runs of the key (RUNNING or QUEUED), newest first. */
  others(limit: number): Promise<string[]>;
}

/**
 * The concurrency keys of one batch of transitions (one transaction). A decision about a key (a
 * run starts, queues, is cancelled, or frees its slot) is made under the key's lock, held until
 * the commit, so that every replica counts the same runs; decisions of the batch are made one at a
 * time, each seeing the runs the batch changed before it (the batch's workflows that joined the
 * key are counted from memory, the others from the database).
 *
 * At its first decision a batch locks the keys of all its workflows at once, in increasing order
 * of their ids, so that no two transactions ever wait for each other's keys. A key it did not know
 * then is locked waiting only above every lock it holds, else only tried; when another
 * transaction holds it, the decision throws KeyBusyError (its job runs again in a batch of its own).
 */
export class KeyGate {
  private readonly held = new Set<number>();
  private highest = Number.NEGATIVE_INFINITY;
  private readonly members = new Map<string, Set<Workflow>>();
  private turn: Promise<unknown> = Promise.resolve();
  private known: number[] = [];
  private first = true;

  constructor(private readonly tx: WorkflowTransaction) {}

  /** The workflows of the batch, before any of them decides: their keys are locked together at the first decision. */
  join(workflows: Iterable<Workflow>): void {
    const keys = [...workflows].flatMap((wf) => (wf.root.concurrency_key === null ? [] : [wf.root.concurrency_key]));
    this.known = [...new Set(keys.map(keyLockId))].sort((a, b) => a - b);
  }

  /** Runs `decide` on `wf`'s key, alone among this batch's decisions, under the key's lock. */
  decide<T>(wf: Workflow, key: string, decide: (view: KeyView) => Promise<T>): Promise<T> {
    const next = this.turn.then(async () => {
      await this.lock(key);
      const members = this.members.get(key) ?? new Set<Workflow>();
      members.add(wf);
      this.members.set(key, members);
      return decide(this.view(key, members, wf));
    });
    this.turn = next.catch(() => undefined);
    return next;
  }

  private async lock(key: string): Promise<void> {
    if (this.first) {
      this.first = false;
      await this.take(this.known, true);
    }
    const id = keyLockId(key);
    if (this.held.has(id)) return;
    if (!(await this.take([id], id > this.highest))) throw new KeyBusyError(key);
  }

  private async take(ids: readonly number[], wait: boolean): Promise<boolean> {
    if (ids.length === 0) return true;
    if (!(await this.tx.lockKeys(ids, wait))) return false;
    for (const id of ids) this.held.add(id);
    this.highest = Math.max(this.highest, ...ids);
    return true;
  }

  private view(key: string, members: ReadonlySet<Workflow>, self: Workflow): KeyView {
    const ids = (): string[] => [...members].map((member) => member.root.id);
    const inMemory = (status: TaskStatus): Workflow[] => [...members].filter((member) => member.root.status === status);
    return {
      running: async () => (await this.tx.countRunning(key, ids())) + inMemory(TaskStatus.Running).length,
      // A batch's new roots and those it read share one transaction's clock: their order of creation is their ids' arrival here.
      queuedHere: () => inMemory(TaskStatus.Queued),
      markQueued: (limit, at) => (limit > 0 ? this.tx.markQueued(key, limit, ids(), at) : Promise.resolve([])),
      // This batch's runs joined the key last: they are the newest.
      others: async (limit) => {
        const here = [...members].reverse().filter((member) => member !== self && (member.root.status === TaskStatus.Running || member.root.status === TaskStatus.Queued));
        const outside = await this.tx.unfinishedRuns(key, ids(), limit);
        return [...here.map((member) => member.root.id), ...outside.map((row) => row.id)].slice(0, limit);
      },
    };
  }
}
