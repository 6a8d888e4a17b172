import { Injectable } from '@nestjs/common';
import type { Claim } from '../delegation/dispatch-queue.service.js';

/** Tells the engine that waiting steps were popped into slots and are to be dispatched now. */
@Injectable()
export class ClaimSignal {
  private listener: ((claims: readonly Claim[]) => void) | undefined;

  raise(claims: readonly Claim[]): void {
    if (claims.length > 0) this.listener?.(claims);
  }

  listen(listener: (claims: readonly Claim[]) => void): void {
    this.listener = listener;
  }
}
