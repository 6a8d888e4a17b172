import type { KeptSignal, NewSignal } from '../persistence/workflow-transaction.js';
import type { WorkflowReads } from './workflow.js';

/** Who sent a signal (or an event), for the history: the transport and the API key's name or the requester's. */
export interface Sender {
  via: 'nats' | 'http';
  by: string | null;
}

/**
 * The signals of one workflow in one transition: those received (stored when the batch commits,
 * taken by a step or kept for one) and the kept ones steps took. Kept signals are read once, under
 * the workflow's lock, and handed out in the order they came, one per step.
 */
export class WorkflowSignals {
  readonly inserted: NewSignal[] = [];
  readonly taken: { id: string; taken_by: string }[] = [];
  private kept: Promise<KeptSignal[]> | null = null;

  constructor(
    private readonly rootId: string,
    private readonly reads: WorkflowReads,
  ) {}

  /** True when a signal with this id came before (stored, or in this transition). */
  async seen(signalId: string): Promise<boolean> {
    return this.inserted.some((signal) => signal.signal_id === signalId) || (await this.reads.signalSeen(this.rootId, signalId));
  }

  /** Stores a signal that came: taken by the step of row `takenBy`, or kept (null). */
  receive(signal: string, signalId: string | null, payload: Record<string, unknown>, sender: Sender, takenBy: string | null): void {
    this.inserted.push({ root_id: this.rootId, signal, signal_id: signalId, payload, sent_by: { ...sender }, taken_by: takenBy });
  }

  /** The oldest signal of this name kept for a step, now taken by row `rowId`; undefined when none is kept. */
  async take(signal: string, rowId: string): Promise<KeptSignal | undefined> {
    this.kept ??= this.reads.keptSignals(this.rootId);
    const taken = new Set(this.taken.map((t) => t.id));
    const stored = (await this.kept).find((kept) => kept.signal === signal && !taken.has(kept.id));
    if (stored) {
      this.taken.push({ id: stored.id, taken_by: rowId });
      return stored;
    }
    // One kept in this very transition (not stored yet) goes to the step instead.
    const fresh = this.inserted.find((one) => one.signal === signal && one.taken_by === null);
    if (!fresh) return undefined;
    fresh.taken_by = rowId;
    return { id: '', signal, signal_id: fresh.signal_id, payload: fresh.payload, sent_by: fresh.sent_by };
  }

  get changed(): boolean {
    return this.inserted.length > 0 || this.taken.length > 0;
  }
}
