import { Worker } from 'node:worker_threads';
import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { ExpressionError } from './expression-error.js';
import { errorOf, type ExpressionJob, type ExpressionSettings, type JobOutcome } from './expression-jobs.js';
import { Expressions } from './expressions.js';

/** Time a worker is given past the job's limit to report its own timeout before it is stopped. */
const GRACE_MS = 200;
const MB = 1024 * 1024;

interface Pending {
  id: number;
  job: ExpressionJob;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Its modules are loaded: the time of a job counts from when it is handed over, not from the thread's start. */
  ready: boolean;
  pending?: Pending;
  timer?: NodeJS.Timeout;
}

type WorkerMessage = { ready: true } | { id: number; outcome: JobOutcome };

export function expressionSettings(config: AppConfig): ExpressionSettings {
  return {
    timeoutMs: config.EXPRESSION_TIMEOUT_MS,
    maxSteps: config.EXPRESSION_MAX_STEPS,
    maxBytes: config.EXPRESSION_MAX_BYTES,
    maxItems: config.EXPRESSION_MAX_ITEMS,
  };
}

/**
 * Evaluates expressions in worker threads (EXPRESSION_WORKERS of them, started when first needed),
 * so that no evaluation holds the event loop: the transition that asked waits, the replica goes
 * on. A worker's heap is capped, each job is metered while it runs (steps, bytes built) and has
 * EXPRESSION_TIMEOUT_MS: a worker that passes its time or its memory is stopped and replaced, and
 * its job fails naming the limit.
 */
@Injectable()
export class ExpressionPool extends Expressions implements OnModuleDestroy {
  private readonly logger = new Logger(ExpressionPool.name);
  private readonly slots: Slot[] = [];
  private readonly waiting: Pending[] = [];
  private readonly size: number;
  private readonly heapMb: number;
  private nextId = 0;
  private closed = false;

  constructor(config: AppConfig) {
    super(expressionSettings(config));
    this.size = config.EXPRESSION_WORKERS;
    // Room for what a job may build (UTF-16 strings, and their JSON), over what the evaluator needs.
    this.heapMb = 64 + Math.ceil((4 * this.settings.maxBytes) / MB);
  }

  protected run(job: ExpressionJob): Promise<unknown> {
    if (this.closed) return Promise.reject(new ExpressionError('EXPRESSION_FAILED', 'the service is stopping'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ id: (this.nextId += 1), job, resolve, reject });
      this.pump();
    });
  }

  onModuleDestroy(): void {
    this.closed = true;
    for (const slot of this.slots.splice(0)) {
      clearTimeout(slot.timer);
      slot.pending?.reject(new ExpressionError('EXPRESSION_FAILED', 'the service is stopping'));
      void slot.worker.terminate();
    }
    for (const pending of this.waiting.splice(0)) pending.reject(new ExpressionError('EXPRESSION_FAILED', 'the service is stopping'));
  }

  private pump(): void {
    while (this.waiting.length > 0) {
      const slot = this.slots.find((one) => one.ready && !one.pending);
      if (!slot) {
        if (this.slots.length < this.size) this.spawn();
        return;
      }
      const pending = this.waiting.shift();
      if (pending) this.start(slot, pending);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./expression.worker.js', import.meta.url), {
      workerData: this.settings,
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
    });
    worker.unref();
    const slot: Slot = { worker, ready: false };
    worker.on('message', (message: WorkerMessage) => {
      if ('ready' in message) {
        slot.ready = true;
        this.pump();
      } else {
        this.settle(slot, message);
      }
    });
    worker.on('error', (error: Error & { code?: string }) => {
      const reason =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new ExpressionError('EXPRESSION_TOO_LARGE', `used more than the ${this.heapMb} MB an evaluation may use`)
          : new ExpressionError('EXPRESSION_FAILED', `failed: ${error.message}`);
      this.retire(slot, reason);
    });
    worker.on('exit', () => this.retire(slot, new ExpressionError('EXPRESSION_FAILED', 'failed: the evaluating thread stopped')));
    this.slots.push(slot);
    return slot;
  }

  private start(slot: Slot, pending: Pending): void {
    slot.pending = pending;
    slot.timer = setTimeout(
      () => this.retire(slot, new ExpressionError('EXPRESSION_TIMEOUT', `did not finish within ${this.settings.timeoutMs} ms (EXPRESSION_TIMEOUT_MS)`)),
      this.settings.timeoutMs + GRACE_MS,
    );
    try {
      slot.worker.postMessage({ id: pending.id, job: pending.job });
    } catch (error) {
      this.finish(slot);
      pending.reject(new ExpressionError('EXPRESSION_FAILED', `failed: its data cannot be handed over (${(error as Error).message})`));
      this.pump();
    }
  }

  private settle(slot: Slot, { id, outcome }: { id: number; outcome: JobOutcome }): void {
    const pending = slot.pending;
    if (!pending || pending.id !== id) return;
    this.finish(slot);
    if (outcome.ok) pending.resolve(outcome.value);
    else pending.reject(errorOf(outcome.error));
    this.pump();
  }

  private finish(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.pending = undefined;
  }

  /**
   * Stops a worker that passed a limit or died; its job fails with `reason`, the others go on in
   * a new one. One that died before it was ready cannot evaluate anything: the jobs waiting fail.
   */
  private retire(slot: Slot, reason: ExpressionError): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    const pending = slot.pending;
    this.finish(slot);
    void slot.worker.terminate();
    if (pending) {
      this.logger.warn(`an evaluation was stopped: ${reason.message}`);
      pending.reject(reason);
    }
    if (!slot.ready) {
      this.logger.error(`an expression worker could not start: ${reason.message}`);
      for (const waiting of this.waiting.splice(0)) waiting.reject(reason);
    }
    if (!this.closed) this.pump();
  }
}
