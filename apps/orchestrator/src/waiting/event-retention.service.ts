import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { WaitsRepository } from '../persistence/waits.repository.js';

const EVERY_MS = 60_000;
const BATCH = 1_000;

/** Deletes the external events kept for steps (`lookback_ms`) once their time has passed, a batch at a time, on every replica. */
@Injectable()
export class EventRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventRetention.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly waits: WaitsRepository) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async sweep(): Promise<void> {
    try {
      while ((await this.waits.deleteExpiredEvents(BATCH)) === BATCH);
    } catch (error) {
      this.logger.warn(`deleting kept events failed: ${(error as Error).message}`);
    }
  }
}
