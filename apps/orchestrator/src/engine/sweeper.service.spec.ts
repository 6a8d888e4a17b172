import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppConfig } from '../config/app-config.js';
import type { AgentRouter } from '../delegation/agent-router.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { TasksRepository } from '../persistence/tasks.repository.js';
import { SweepSignal } from './sweep-signal.js';
import { SweeperService } from './sweeper.service.js';
import type { WorkflowEngine } from './workflow-engine.service.js';

const INTERVAL = 1_000;
const BATCH = 200;
const DAY = 86_400_000;


/** The sweeper's loop over fakes of what it calls; the queries themselves are in test/integration/sweeper.int-spec.ts. */
function sweeper(options: { due?: () => Promise<unknown[]>; blocked?: unknown[]; retention?: Partial<AppConfig> } = {}) {
  const passes: { at: number; full: string[] }[] = [];
  const deletions: { at: number; cutoff: number; batch: number }[] = [];
  let deleted = 0;
  const tasks = {
    findDue: vi.fn((_now: Date, _limit: number, full: string[]) => {
      passes.push({ at: Date.now(), full });
      return options.due ? options.due() : Promise.resolve([]);
    }),
    deleteFinished: vi.fn((cutoff: Date, batch: number) => {
      deletions.push({ at: Date.now(), cutoff: cutoff.getTime(), batch });
      const workflows = Math.min(batch, Math.max(0, 5 - deleted));
      deleted += workflows;
      return Promise.resolve({ workflows, rows: workflows * 2, events: workflows * 3 });
    }),
  };
  const engine = { sweep: vi.fn(() => Promise.resolve(options.blocked ?? [])), resendUnsentResponses: vi.fn(() => Promise.resolve()) };
  const router = { fullAgents: vi.fn(() => Promise.resolve(['busy_agent'])) };
  const config = { SWEEP_INTERVAL_MS: INTERVAL, RETENTION_DAYS: 0, RETENTION_BATCH: 2, RETENTION_INTERVAL_MS: 60_000, ...options.retention };
  const signal = new SweepSignal();
  const metrics = new MetricsService();
  const service = new SweeperService(tasks as unknown as TasksRepository, engine as unknown as WorkflowEngine, router as unknown as AgentRouter, config as AppConfig, signal, metrics);
  return { service, passes, deletions, tasks, engine, router, signal, metrics };
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

  it('sweeps again at once after a full batch that moved, and waits the interval after one that was all blocked or short', async () => {
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

    const blocked = sweeper({ due: () => Promise.resolve(full), blocked: [{ id: 0 }] });
    const start = Date.now();
    blocked.service.onApplicationBootstrap();
    await vi.advanceTimersByTimeAsync(INTERVAL * 2);
    expect(blocked.passes.map((p) => p.at)).toEqual([start + INTERVAL, start + INTERVAL * 2]);
    await blocked.service.onApplicationShutdown();
  });

  it('hands due work to the engine only when there is some, and resends unsent responses at every pass', async () => {
    const { service, engine } = sweeper();
    expect(await service.sweepOnce()).toBe(false);
    expect(engine.sweep).not.toHaveBeenCalled();
    expect(engine.resendUnsentResponses).toHaveBeenCalledWith(5_000, BATCH);
  });

  it('runs a pass at once when woken while idle, right after the one under way when woken during it, and never once stopped', async () => {
    let release: (() => void) | undefined;
    const slow = (): Promise<unknown[]> => new Promise((resolve) => (release = () => resolve([])));
    const { service, passes, signal } = sweeper({ due: slow });
    service.onApplicationBootstrap();
    signal.capacityWait();
    signal.slotsFreed();
    await vi.advanceTimersByTimeAsync(0);
    expect(passes.map((p) => p.at)).toEqual([0]);
    // Woken during the pass: the next one follows it at once instead of after the interval.
    await vi.advanceTimersByTimeAsync(300);
    signal.slotsFreed();
    release?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(passes.map((p) => p.at)).toEqual([0, 300]);
    // Not woken during this one: the interval.
    release?.();
    await vi.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(passes).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(passes.map((p) => p.at)).toEqual([0, 300, 300 + INTERVAL]);
    release?.();
    await service.onApplicationShutdown();
    signal.slotsFreed();
    await vi.advanceTimersByTimeAsync(INTERVAL * 3);
    expect(passes).toHaveLength(3);
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

  it('leaves out the steps waiting on full agents, except at every 20th pass; an unreadable list leaves out none', async () => {
    const { service, passes, router } = sweeper();
    for (let i = 0; i < 40; i++) await service.sweepOnce();
    const takenAll = passes.flatMap((p, i) => (p.full.length === 0 ? [i + 1] : []));
    expect(takenAll).toEqual([20, 40]);
    expect(passes[0]?.full).toEqual(['busy_agent']);
    router.fullAgents.mockRejectedValueOnce(new Error('redis down'));
    await service.sweepOnce();
    expect(passes.at(-1)?.full).toEqual([]);
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
