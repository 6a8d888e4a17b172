import { Injectable, Logger } from '@nestjs/common';
import { isTerminalStatus, type SignalRequest } from '@orchestrator/contracts';
import { MetricsService } from '../../metrics/metrics.service.js';
import { TasksRepository } from '../../persistence/tasks.repository.js';
import { WaitsRepository } from '../../persistence/waits.repository.js';
import { TransitionQueue } from '../transition-queue.js';
import { EventTransition } from '../transitions/event.transition.js';
import { SignalTransition, type SignalOutcome } from '../transitions/signal.transition.js';
import type { Sender } from '../workflow-signals.js';
import { eventWaitKey, valuesFor } from './wait-keys.js';

/** How long after a kept event it is matched again, for steps that started while it was stored. */
const REMATCH_AFTER_MS = 2_000;

/** What an external event did: the waiting steps it resumed, and whether it is kept for steps that start later. */
export interface EventOutcome {
  resumed: number;
  kept: boolean;
}

/**
 * The engine's entry points for what steps wait for: a signal for one workflow, applied under its
 * lock; an external event, which finds the steps waiting for it by index (hashed on each set of
 * fields steps match it on) and resumes each under its own workflow's lock.
 */
@Injectable()
export class WaitingWorkflows {
  private readonly logger = new Logger(WaitingWorkflows.name);

  constructor(
    private readonly queue: TransitionQueue,
    private readonly tasks: TasksRepository,
    private readonly waits: WaitsRepository,
    private readonly signalTransition: SignalTransition,
    private readonly eventTransition: EventTransition,
    private readonly metrics: MetricsService,
  ) {}

  async signal(request: SignalRequest, sender: Sender): Promise<SignalOutcome> {
    const root = await this.tasks.findRootByTaskId(request.task_id);
    if (!root) return { kind: 'unknown' };
    if (isTerminalStatus(root.status)) return { kind: 'finished', status: root.status };
    const outcome = await this.queue.apply({
      target: { kind: 'root', rootId: root.id, skipLocked: false },
      apply: (wf) => this.signalTransition.apply(wf, request, sender),
    });
    this.metrics.signals.inc({ outcome: outcome.kind });
    return outcome;
  }

  /** Resumes every step waiting for this event whose `match` its fields equal; keeps it when a step wants earlier events. */
  async event(event: string, payload: Record<string, unknown>, sender: Sender): Promise<EventOutcome> {
    const started = process.hrtime.bigint();
    const shapes = await this.waits.shapes(event);
    const keys = new Set<string>();
    for (const shape of shapes) {
      const values = valuesFor(payload, shape.keys);
      if (values) keys.add(eventWaitKey(event, values));
    }
    const lookback = Math.max(0, ...shapes.map((shape) => shape.lookback_ms));
    const kept = this.keep(event, payload, lookback);
    const rows = await this.waits.waitingFor([...keys]);
    this.metrics.eventMatchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    await kept;
    const resumed = await this.resume(rows, event, payload, sender);
    this.metrics.externalEvents.inc({ outcome: resumed > 0 ? 'resumed' : 'unmatched' });
    if (lookback > 0) this.matchAgainLater(event, payload, sender, [...keys]);
    return { resumed, kept: lookback > 0 };
  }

  /**
   * A step that starts while a kept event is being stored may miss it both ways (its transaction
   * read the kept events before the event was stored; the event looked for waiting steps before
   * the step's commit): a kept event is matched once more a moment later.
   */
  private matchAgainLater(event: string, payload: Record<string, unknown>, sender: Sender, keys: string[]): void {
    setTimeout(() => {
      this.waits
        .waitingFor(keys)
        .then((rows) => this.resume(rows, event, payload, sender))
        .catch((error: unknown) => this.logger.warn(`matching event ${event} again failed: ${(error as Error).message}`));
    }, REMATCH_AFTER_MS).unref();
  }

  private async resume(rows: readonly { id: string; wait_key: string }[], event: string, payload: Record<string, unknown>, sender: Sender): Promise<number> {
    const applied = await Promise.all(
      this.queue
        .applyEach(
          rows.map((row) => ({
            target: { kind: 'row' as const, rowId: row.id },
            rows: [row.id],
            apply: (wf) => this.eventTransition.apply(wf, { rowId: row.id, waitKey: row.wait_key, event, payload, sender }),
          })),
        )
        .map((one, i) =>
          one.catch((error: unknown) => {
            this.logger.error(`event ${event} could not resume step row ${rows[i]?.id ?? '?'}: ${(error as Error).message}`);
            return false;
          }),
        ),
    );
    return applied.filter(Boolean).length;
  }

  private async keep(event: string, payload: Record<string, unknown>, keepMs: number): Promise<void> {
    if (keepMs > 0) await this.waits.keepEvent(event, payload, keepMs);
  }
}
