import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppConfig } from '../config/app-config.js';
import type { AgentRouter } from '../delegation/agent-router.service.js';
import type { DispatchQueue } from '../delegation/dispatch-queue.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { TasksRepository } from '../persistence/tasks.repository.js';
import { AgentRoomSignal } from '../registry/agent-room-signal.js';
import type { QueuedRuns } from './concurrency/queued-runs.service.js';
import type { DispatchResender } from './dispatch-resender.js';
import { SweeperService } from './sweeper.service.js';
import type { WorkflowEngine } from './workflow-engine.service.js';

const INTERVAL = 1_000;
const BATCH = 200;
const DAY = 86_400_000;
const STAGE_LIMIT = 15_000;


/** The sweeper's loop over fakes of what it calls; the queries themselves are in test/integration/sweeper.int-spec.ts. */
function sweeper(options: { due?: () => Promise<unknown[]>; retention?: Partial<AppConfig> } = {}) {
  const passes: { at: number }[] = [];
  const deletions: { at: number; cutoff: number; batch: number }[] = [];
  let deleted = 0;
  const tasks = {
    findDue: vi.fn(() => {
      passes.push({ at: Date.now() });
      return options.due ? options.due() : Promise.resolve([]);
    }),
    deleteFinished: vi.fn((cutoff: Date, batch: number) => {
      deletions.push({ at: Date.now(), cutoff: cutoff.getTime(), batch });
      const workflows = Math.min(batch, Math.max(0, 5 - deleted));
      deleted += workflows;
      return Promise.resolve({ workflows, rows: workflows * 2, events: workflows * 3 });
    }),
    waitingSteps: vi.fn((): Promise<unknown[]> => Promise.resolve([])),
  };
  const engine = { sweep: vi.fn(() => Promise.resolve([])), resendUnsentResponses: vi.fn(() => Promise.resolve()), dispatchClaimed: vi.fn(() => Promise.resolve()) };
  const router = { pumpAll: vi.fn(() => Promise.resolve([])), release: vi.fn(() => Promise.resolve([])) };
  const queue = { restore: vi.fn(() => Promise.resolve(0)) };
  const queuedRuns = { sweep: vi.fn(() => Promise.resolve(0)) };
  const resender = { resendUnsent: vi.fn(() => Promise.resolve()) };
  const config = { SWEEP_INTERVAL_MS: INTERVAL, RETENTION_DAYS: 0, RETENTION_BATCH: 2, RETENTION_INTERVAL_MS: 60_000, QUEUE_RESTORE_INTERVAL_MS: 30_000, SWEEP_STAGE_TIMEOUT_MS: STAGE_LIMIT, ...options.retention };
  const room = new AgentRoomSignal();
  const metrics = new MetricsService();
  const service = new SweeperService(
    tasks as unknown as TasksRepository,
    engine as unknown as WorkflowEngine,
    router as unknown as AgentRouter,
    queue as unknown as DispatchQueue,
    config as AppConfig,
    metrics,
    resender as unknown as DispatchResender,
    queuedRuns as unknown as QueuedRuns,
    room,
  );
  return { service, passes, deletions, tasks, engine, router, queue, queuedRuns, resender, room, metrics };
}

describe('SweeperService', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('sweeps every SWEEP_INTERVAL_MS from bootstrap, not before, and not after shutdown', async () => {
    const { service, passes } = sweeper();
    service.onApplicationBootstrap();
    await vi.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(passes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(INTERVAL * 2);
    expect(passes.map((p) => p.at)).toEqual([INTERVAL, INTERVAL * 2, INTERVAL * 3]);
    await service.onApplicationShutdown();
    await vi.advanceTimersByTimeAsync(INTERVAL * 5);
    expect(passes).toHaveLength(3);
  });

  it('sweeps again at once after a full batch, and waits the interval after a short one', async () => {
    const full = Array.from({ length: BATCH }, (_, i) => ({ id: i }));
    const answers = [full, full, full.slice(1), []];
    const moving = sweeper({ due: () => Promise.resolve(answers.shift() ?? []) });
    moving.service.onApplicationBootstrap();
    await vi.advanceTimersByTimeAsync(INTERVAL + 10);
    // Two full batches: two more passes at once (a timer of 0), the third batch short: then the interval.
    expect(moving.passes).toHaveLength(3);
    expect(moving.passes.every((p) => p.at - INTERVAL < 10)).toBe(true);
    const third = moving.passes[2]?.at ?? 0;
    await vi.advanceTimersByTimeAsync(third + INTERVAL - 1 - Date.now());
    expect(moving.passes).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(moving.passes.map((p) => p.at)).toEqual([...moving.passes.slice(0, 3).map((p) => p.at), third + INTERVAL]);
    expect(moving.engine.sweep).toHaveBeenCalledTimes(3);
    await moving.service.onApplicationShutdown();
  });

  it('hands due work to the engine only when there is some, and resends unsent responses at every pass', async () => {
    const { service, engine } = sweeper();
    expect(await service.sweepOnce()).toBe(false);
    expect(engine.sweep).not.toHaveBeenCalled();
    expect(engine.resendUnsentResponses).toHaveBeenCalledWith(5_000, BATCH);
  });

  it('leaves a stage that never settles behind after SWEEP_STAGE_TIMEOUT_MS: the passes go on, the later stages run', async () => {
    const { service, passes, resender, engine } = sweeper();
    resender.resendUnsent.mockImplementationOnce(() => new Promise(() => undefined));
    service.onApplicationBootstrap();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(passes).toHaveLength(1);
    // The first pass is stuck in its second stage: no later stage, no second pass.
    await vi.advanceTimersByTimeAsync(STAGE_LIMIT - 1);
    expect(engine.resendUnsentResponses).not.toHaveBeenCalled();
    expect(passes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(engine.resendUnsentResponses).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(passes).toHaveLength(2);
    expect(resender.resendUnsent).toHaveBeenCalledTimes(2);
    await service.onApplicationShutdown();
  });

  it('waits for the pass under way at shutdown', async () => {
    let release: (() => void) | undefined;
    const { service } = sweeper({ due: () => new Promise((resolve) => (release = () => resolve([]))) });
    service.onApplicationBootstrap();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    let stopped = false;
    const stopping = service.onApplicationShutdown().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(stopped).toBe(false);
    release?.();
    await stopping;
    expect(stopped).toBe(true);
  });

  it('counts a failed pass as a database error and tries again after the interval', async () => {
    const { service, passes, metrics } = sweeper({ due: () => Promise.reject(new Error('connection refused')) });
    service.onApplicationBootstrap();
    await vi.advanceTimersByTimeAsync(INTERVAL * 2);
    expect(passes.map((p) => p.at)).toEqual([INTERVAL, INTERVAL * 2]);
    expect(await metrics.registry.getSingleMetricAsString('orchestrator_errors_total')).toMatch(/dependency="database"} 2\b/);
    await service.onApplicationShutdown();
  });

  it('moves every line at each pass, and every QUEUE_RESTORE_INTERVAL_MS puts back, a page at a time, the steps that waited that long', async () => {
    const { service, router, engine, tasks, queue, queuedRuns } = sweeper();
    const pages: { before: number; after: unknown }[] = [];
    const page = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `s${i}`, updatedAt: new Date(i) }));
    const answers = [page(1_000), page(3)];
    tasks.waitingSteps.mockImplementation((...args: unknown[]) => {
      pages.push({ before: (args[0] as Date).getTime(), after: args[1] });
      return Promise.resolve(answers.shift() ?? []);
    });
    const claims = [{ subtaskId: 'a:1' }];
    router.pumpAll.mockResolvedValueOnce(claims as never);
    await service.sweepOnce();
    expect(engine.dispatchClaimed).toHaveBeenCalledWith(claims);
    expect(pages).toEqual([
      { before: -30_000, after: null },
      { before: -30_000, after: { updatedAt: new Date(999), id: 's999' } },
    ]);
    expect(queue.restore).toHaveBeenCalledTimes(2);
    expect(queuedRuns.sweep).toHaveBeenCalledWith(BATCH);
    vi.setSystemTime(30_000 - 1);
    await service.sweepOnce();
    expect(pages).toHaveLength(2);
    expect(router.pumpAll).toHaveBeenCalledTimes(2);
    vi.setSystemTime(30_000);
    await service.sweepOnce();
    expect(pages.at(-1)).toEqual({ before: 0, after: null });
    // An unreadable Redis moves nothing this pass and fails nothing else.
    router.pumpAll.mockRejectedValueOnce(new Error('redis down'));
    await service.sweepOnce();
    expect(engine.resendUnsentResponses).toHaveBeenCalledTimes(4);
  });

  it('takes the lines of an agent that joins at once', async () => {
    const { router, engine, room } = sweeper();
    const claims = [{ subtaskId: 'b:1' }];
    router.release.mockResolvedValueOnce(claims as never);
    room.raise('new_agent');
    await vi.advanceTimersByTimeAsync(0);
    expect(router.release).toHaveBeenCalledWith('new_agent', null);
    expect(engine.dispatchClaimed).toHaveBeenCalledWith(claims);
  });

  it('deletes finished workflows a batch a pass while a backlog lasts, then once every RETENTION_INTERVAL_MS, counting what it deleted', async () => {
    const { service, deletions, metrics } = sweeper({ retention: { RETENTION_DAYS: 3 } });
    for (let i = 0; i < 3; i++) await service.sweepOnce();
    // 5 to delete, 2 a batch: the third batch is short, so the backlog is over.
    expect(deletions).toEqual([0, 1, 2].map(() => ({ at: 0, cutoff: -3 * DAY, batch: 2 })));
    await service.sweepOnce();
    vi.setSystemTime(60_000 - 1);
    await service.sweepOnce();
    expect(deletions).toHaveLength(3);
    vi.setSystemTime(60_000);
    await service.sweepOnce();
    expect(deletions.at(-1)).toEqual({ at: 60_000, cutoff: 60_000 - 3 * DAY, batch: 2 });
    const counted = await metrics.registry.getSingleMetricAsString('orchestrator_retention_deleted_total');
    expect(counted).toMatch(/what="workflows"} 5\b/);
    expect(counted).toMatch(/what="rows"} 10\b/);
    expect(counted).toMatch(/what="events"} 15\b/);
  });

  it('deletes nothing when RETENTION_DAYS is 0', async () => {
    const { service, deletions } = sweeper();
    await service.sweepOnce();
    expect(deletions).toHaveLength(0);
  });
});
