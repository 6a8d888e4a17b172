import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { EventShape } from '../../persistence/waits.repository.js';
import { WaitsRepository } from '../../persistence/waits.repository.js';
import type { PlannedStep } from '../../planning/plan.js';
import { WorkflowCatalog } from '../../planning/workflow-catalog.service.js';
import type { StepDefinition } from '../../planning/workflow-definition.js';
import { shapeOf } from './wait-keys.js';

/**
 * The sets of fields steps match each event on, recorded before any step of a plan can wait (at
 * start for the workflow files, and for every plan before its workflow starts), so that an event
 * finds the steps waiting for it, and is kept when a step wants events that came before it
 * (`lookback_ms`). Each shape is written once per replica.
 */
@Injectable()
export class EventShapes implements OnApplicationBootstrap {
  private readonly logger = new Logger(EventShapes.name);
  private readonly known = new Set<string>();

  constructor(
    private readonly waits: WaitsRepository,
    private readonly catalog: WorkflowCatalog,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.register(this.catalog.list().flatMap((definition) => definition.steps));
    } catch (error) {
      // Each plan registers its shapes again before its workflow starts.
      this.logger.warn(`recording the events the workflow files wait for failed: ${(error as Error).message}`);
    }
  }

  /** Records the shapes of these steps' event waits that this replica has not recorded yet. */
  async register(steps: readonly (StepDefinition | PlannedStep)[]): Promise<void> {
    const fresh: EventShape[] = [];
    for (const step of steps) {
      const wait = step.wait_for;
      if (wait?.event === undefined) continue;
      const shape = { event: wait.event, keys: shapeOf(wait.match), lookback_ms: wait.lookback_ms ?? 0 };
      const key = JSON.stringify(shape);
      if (this.known.has(key)) continue;
      fresh.push(shape);
      this.known.add(key);
    }
    if (fresh.length === 0) return;
    try {
      await this.waits.registerShapes(fresh);
    } catch (error) {
      for (const shape of fresh) this.known.delete(JSON.stringify(shape));
      throw error;
    }
  }
}
