import { Injectable } from '@nestjs/common';

/** Tells the engine that a workflow waits for its planner to revise its plan. */
@Injectable()
export class RevisionSignal {
  private listener: ((rootId: string) => void) | undefined;

  raise(rootId: string): void {
    this.listener?.(rootId);
  }

  listen(listener: (rootId: string) => void): void {
    this.listener = listener;
  }
}
