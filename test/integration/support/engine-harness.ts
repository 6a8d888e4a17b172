import 'reflect-metadata';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Global, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  completedResponse,
  failedResponse,
  ORCHESTRATOR_AGENT_NAME,
  TaskPriority,
  type TaskRequest,
  type TaskResponse,
} from '@orchestrator/contracts';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, vi } from 'vitest';
import { AppConfig, validateConfig } from '../../../apps/orchestrator/src/config/app-config.js';
import { AgentRouter } from '../../../apps/orchestrator/src/delegation/agent-router.service.js';
import { EngineModule } from '../../../apps/orchestrator/src/engine/engine.module.js';
import { SweeperService } from '../../../apps/orchestrator/src/engine/sweeper.service.js';
import { WorkflowEngine, type WorkflowStart } from '../../../apps/orchestrator/src/engine/workflow-engine.service.js';
import { MetricsModule } from '../../../apps/orchestrator/src/metrics/metrics.module.js';
import { MetricsService } from '../../../apps/orchestrator/src/metrics/metrics.service.js';
import { TasksRepository } from '../../../apps/orchestrator/src/persistence/tasks.repository.js';
import { expressionSettings } from '../../../apps/orchestrator/src/planning/expression-pool.js';
import { Expressions, InlineExpressions } from '../../../apps/orchestrator/src/planning/expressions.js';
import { RedisModule } from '../../../apps/orchestrator/src/redis/redis.module.js';
import { IntakeStream } from '../../../apps/orchestrator/src/transport/intake-stream.js';
import { ReplyTokens } from '../../../apps/orchestrator/src/delegation/reply-tokens.js';
import { MessagePublisher } from '../../../apps/orchestrator/src/transport/message-publisher.js';
import { emptyAll, integrationEnv } from './integration-db.js';
import { RecordingPublisher, type Published } from './recording-publisher.js';

/** A sub-task the engine sent: its message and what it names. */
export interface SentSubtask {
  agent: string;
  taskId: string;
  rowId: string;
  attempt: number;
  stepKey: string;
  payload: Record<string, unknown>;
  message: Published;
}

export interface HarnessOptions {
  /** Workflow definitions, one file each, by task_type. */
  workflows: Record<string, Record<string, unknown>>;
  /** Settings over the defaults (no planner, no retention, a sweeper that runs only when the test asks). */
  env?: Record<string, string>;
  /** Let the sweeper run by itself at its interval and when slots free, as in the service. */
  autoSweep?: boolean;
}

const TASK_SUBJECT = /^agent\.([a-z0-9_-]+)\.(task|workflow)$/;

/**
 * The engine as the service wires it (its Nest modules, a real PostgreSQL migrated like the
 * service's, a real Redis), with its one seam to NATS recording what it would send. Time is the
 * process's clock, which a test may move (`advance`).
 */
export class EngineHarness {
  private clock: number | null = null;

  private constructor(
    readonly module: TestingModule,
    readonly published: RecordingPublisher,
    readonly db: pg.Client,
    readonly config: AppConfig,
  ) {}

  static async start(options: HarnessOptions): Promise<EngineHarness> {
    const env = await integrationEnv();
    const dir = mkdtempSync(join(tmpdir(), 'int-workflows-'));
    for (const [taskType, definition] of Object.entries(options.workflows)) {
      writeFileSync(join(dir, `${taskType}.json`), JSON.stringify({ task_type: taskType, version: 1, ...definition }));
    }
    const config = validateConfig({
      DATABASE_URL: env.databaseUrl,
      REDIS_URL: env.redisUrl,
      WORKFLOWS_DIR: dir,
      PLANNER_AGENT: '',
      RETENTION_DAYS: '0',
      DB_POOL_SIZE: '6',
      SWEEP_INTERVAL_MS: '60000',
      LOG_LEVEL: 'warn',
      // No NATS in this tier: intake over core NATS only, so no stream keeps answers that overflow.
      DURABLE_INTAKE: 'off',
      ...options.env,
    });
    const publisher = new RecordingPublisher();
    // What the app's global config and NATS modules provide; a module made without decorator syntax (tests are not compiled with it).
    class HarnessCore {}
    Global()(HarnessCore);
    Module({
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: MessagePublisher, useValue: publisher },
        // With DURABLE_INTAKE off the stream never uses its connection.
        { provide: IntakeStream, useFactory: () => IntakeStream.open(null as unknown as NatsConnection, config) },
      ],
      exports: [AppConfig, MessagePublisher, IntakeStream],
    })(HarnessCore);
    const core = HarnessCore;
    const module = await Test.createTestingModule({ imports: [core, MetricsModule, RedisModule, EngineModule] })
      // Expressions in this thread: the service's worker threads load compiled modules, which this tier (run from the sources) has not.
      .overrideProvider(Expressions)
      .useValue(new InlineExpressions(expressionSettings(config)))
      .setLogger({ log: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, verbose: () => undefined, fatal: () => undefined })
      .compile();
    // Lifecycle hooks are not run: the sweeper runs only when a test asks, unless told otherwise.
    if (!options.autoSweep) await module.get(SweeperService).onApplicationShutdown();
    // The secret of reply subjects' tokens, read (or made) as the app does at start.
    await module.get(ReplyTokens).onModuleInit();
    const db = new pg.Client({ connectionString: env.databaseUrl });
    await db.connect();
    const harness = new EngineHarness(module, publisher, db, config);
    await harness.reset();
    return harness;
  }

  get engine(): WorkflowEngine {
    return this.module.get(WorkflowEngine);
  }

  get tasks(): TasksRepository {
    return this.module.get(TasksRepository);
  }

  get metrics(): MetricsService {
    return this.module.get(MetricsService);
  }

  router(): AgentRouter {
    return this.module.get(AgentRouter);
  }

  get sweeper(): SweeperService {
    return this.module.get(SweeperService);
  }

  /** Empties the database and Redis and forgets what was published: for the next test of a file sharing the harness. */
  async reset(): Promise<void> {
    if (this.clock !== null) {
      vi.useRealTimers();
      this.clock = null;
    }
    vi.restoreAllMocks();
    await emptyAll(this.db, this.module.get(Redis));
    this.published.clear();
  }

  async close(): Promise<void> {
    if (this.clock !== null) vi.useRealTimers();
    await this.module.close();
    await this.db.end();
  }

  /** Submits a request as intake does, with the defaults a validated request has. */
  submit(request: Partial<TaskRequest> & { task_id: string; task_type: string }, start: WorkflowStart = {}): ReturnType<WorkflowEngine['submit']> {
    return this.engine.submit({ payload: {}, priority: TaskPriority.Normal, ...request }, start);
  }

  /** Every sub-task sent so far (to agents and to the orchestrator itself), in order. */
  sent(): SentSubtask[] {
    return this.published.messages.flatMap((message) => {
      const match = TASK_SUBJECT.exec(message.subject);
      if (!match || !message.options.reply) return [];
      const taskId = String(message.body['task_id']);
      const [rowId = '', attempt = '0'] = taskId.split(':');
      const agent = match[2] === 'workflow' ? ORCHESTRATOR_AGENT_NAME : (match[1] ?? '');
      return [{ agent, taskId, rowId, attempt: Number(attempt), stepKey: message.options.headers?.['Orchestrator-Step'] ?? '', payload: message.body['payload'] as Record<string, unknown>, message }];
    });
  }

  /** The sub-tasks sent for one step (or item key), in order. */
  sentFor(stepKey: string): SentSubtask[] {
    return this.sent().filter((s) => s.stepKey === stepKey);
  }

  /** The one sub-task sent last for a step. */
  last(stepKey: string): SentSubtask {
    const sent = this.sentFor(stepKey).at(-1);
    if (!sent) throw new Error(`nothing was sent for step ${stepKey}`);
    return sent;
  }

  /** An agent's answer, on the attempt's own reply subject (or from `sender`, on its response subject). */
  answer(subtask: SentSubtask, response: TaskResponse | Record<string, unknown>, sender: string | null = null): Promise<string | null> {
    const body = 'status' in response && 'task_id' in response ? (response as TaskResponse) : completedResponse(subtask.taskId, response);
    return this.engine.applyResponse(body, subtask.message.options.reply ?? 'reply', sender);
  }

  fail(subtask: SentSubtask, error: string): Promise<string | null> {
    return this.engine.applyResponse(failedResponse(subtask.taskId, error), subtask.message.options.reply ?? 'reply');
  }

  /** One pass of the sweeper, as its timer runs it. */
  sweep(): Promise<boolean> {
    return this.sweeper.sweepOnce();
  }

  /** Moves the process's clock forward (Date only: timers and sockets keep real time). */
  advance(ms: number): void {
    if (this.clock === null) {
      this.clock = Date.now();
      vi.useFakeTimers({ toFake: ['Date'] });
    }
    this.clock += ms;
    vi.setSystemTime(this.clock);
  }

  /** Waits (in real time, whatever `advance` did) until `probe` gives a value: for what follows a commit. */
  async eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
    for (let waited = 0; waited < timeoutMs; waited += 20) {
      const value = await probe();
      if (value !== undefined) return value;
      await sleep(20);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db.query<T>(sql, params)).rows;
  }

  /** A workflow's rows by step key (items included), with what tests look at. */
  async rows(taskId: string): Promise<Map<string, StepRow>> {
    const rows = await this.query<StepRow>(
      `SELECT s.id, s.step_key, s.status, s.attempts, s.max_attempts, s.agent_name, s.error, s.result, s.next_attempt_at, s.deadline_at,
              s.item_count, s.items_started, s.items_done, s.waiting_on
         FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE r.task_id = $1 AND r.parent_id IS NULL AND s.parent_id IS NOT NULL`,
      [taskId],
    );
    return new Map(rows.map((row) => [row.step_key, row]));
  }

  async root(taskId: string): Promise<RootView> {
    const [root] = await this.query<RootView>(`SELECT * FROM tasks WHERE task_id = $1 AND parent_id IS NULL`, [taskId]);
    if (!root) throw new Error(`no workflow ${taskId}`);
    return root;
  }

  /** The kinds (and step) of a workflow's history, in order. */
  async history(taskId: string): Promise<{ kind: string; step_id: string | null; data: Record<string, unknown> | null; status: string }[]> {
    return this.query(`SELECT kind, step_id, data, status FROM task_events WHERE task_id = $1 ORDER BY id`, [taskId]);
  }
}

/** One harness for the tests of a describe block (started before them, closed after), emptied before each test. */
export function useEngineHarness(options: HarnessOptions): () => EngineHarness {
  let harness: EngineHarness | undefined;
  beforeAll(async () => {
    harness = await EngineHarness.start(options);
  });
  beforeEach(() => harness?.reset());
  afterAll(() => harness?.close());
  return () => {
    if (!harness) throw new Error('the engine harness is not started');
    return harness;
  };
}

export interface StepRow {
  id: string;
  step_key: string;
  status: string;
  attempts: number;
  max_attempts: number;
  agent_name: string | null;
  error: string | null;
  result: Record<string, unknown> | null;
  next_attempt_at: Date | null;
  deadline_at: Date | null;
  item_count: number | null;
  items_started: number;
  items_done: number;
  waiting_on: string | null;
}

export interface RootView {
  id: string;
  task_id: string;
  status: string;
  error: string | null;
  result: Record<string, unknown> | null;
  deadline_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  next_attempt_at: Date | null;
  response_sent_at: Date | null;
  plan: Record<string, unknown>;
}
