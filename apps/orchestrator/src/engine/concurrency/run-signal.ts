import { Injectable } from '@nestjs/common';

/** What runs of concurrency keys need after a commit, passed from the effects to whoever queues the transitions. */
export interface RunListener {
  /** QUEUED runs marked for a look: each starts if its key has room. */
  admit(rootIds: readonly string[]): void;
  /** Runs a newer one superseded (`cancel_in_progress`): cancelled with `reason`. */
  supersede(rootIds: readonly string[], reason: string): void;
}

/** Tells the engine which runs to start or cancel for their concurrency keys, after the commit that decided it. */
@Injectable()
export class RunSignal {
  private listener: RunListener | undefined;

  admit(rootIds: readonly string[]): void {
    this.listener?.admit(rootIds);
  }

  supersede(rootIds: readonly string[], reason: string): void {
    this.listener?.supersede(rootIds, reason);
  }

  listen(listener: RunListener): void {
    this.listener = listener;
  }
}
