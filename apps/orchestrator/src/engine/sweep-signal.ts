import { Injectable } from '@nestjs/common';

/** Slots that came free wake the sweeper only while steps have waited for one this recently. */
const RECENT_WAIT_MS = 30_000;

/** Tells the sweeper that something became due now: a slot on an agent came free while steps wait for one. */
@Injectable()
export class SweepSignal {
  private listener: (() => void) | undefined;
  private lastCapacityWait = 0;

  /** A step had to wait for a free slot. */
  capacityWait(): void {
    this.lastCapacityWait = Date.now();
  }

  /** Slots came free. */
  slotsFreed(): void {
    if (Date.now() - this.lastCapacityWait < RECENT_WAIT_MS) this.listener?.();
  }

  listen(listener: () => void): void {
    this.listener = listener;
  }
}
