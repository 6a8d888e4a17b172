import { Injectable } from '@nestjs/common';

/** Tells whoever moves the lines of waiting steps that an agent has more room: it joined, or raised its capacity. */
@Injectable()
export class AgentRoomSignal {
  private listener: ((agent: string) => void) | undefined;

  raise(agent: string): void {
    this.listener?.(agent);
  }

  listen(listener: (agent: string) => void): void {
    this.listener = listener;
  }
}
