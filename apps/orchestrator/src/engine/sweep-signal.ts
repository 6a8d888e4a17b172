import { Injectable } from '@nestjs/common';

/** Tells the sweeper that something became due now (a slot on an agent came free). */
@Injectable()
export class SweepSignal {
  private listener: (() => void) | undefined;

  raise(): void {
    this.listener?.();
  }

  listen(listener: () => void): void {
    this.listener = listener;
  }
}
