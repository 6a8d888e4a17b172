import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '@orchestrator/agent-sdk';
import { ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { afterAll, beforeAll } from 'vitest';
import { TestDatabase } from './database.js';
import { PlainNatsClient } from './nats-client.js';
import { startDemoAgents, startOrchestrator, waitForAgents, type AppProcess } from './orchestrator-process.js';

/** Settings of the orchestrators over the test defaults; a function is asked at each start, with the replica's index. */
export type OrchestratorEnv = Record<string, string> | ((replica: number) => Record<string, string>);

export interface TestStackOptions {
  /** The orchestrators' workflow definitions; default the repository's workflows/. */
  workflowsDir?: string;
  env?: OrchestratorEnv;
  /** Orchestrators started with the stack, default 1; with 0 the tests start them (startOrchestrator). */
  replicas?: number;
  /** Start the replicas one after another: several starting together on a busy machine may take longer than a start may. */
  oneByOne?: boolean;
  /** Agents of the SDK, built and not started: they start with the stack and stop with it. */
  agents?: Agent[];
  /** The demo agents' process: all five, or those named. */
  demoAgents?: true | string[];
  /** Start the agents before the orchestrators rather than after them. */
  agentsFirst?: boolean;
  /** Before the tests, wait until the orchestrator's registry lists this many agents. */
  waitForAgents?: number;
  /** Runs once the database is reset and before anything starts: for what the orchestrators must find running. */
  before?: () => Promise<void> | void;
}

function started<T>(what: string, value: T | undefined): T {
  if (value === undefined) throw new Error(`${what} is not started: use the test stack inside tests and hooks`);
  return value;
}

/**
 * What an end-to-end test runs against: a freshly migrated database, orchestrator replicas started
 * as `npm run start:orchestrator` starts them, agents, and a plain NATS client. Stops in the
 * reverse order: the client, the agents, the orchestrators, the clean-ups, the database.
 */
export class TestStack {
  private database: TestDatabase | undefined;
  private client: PlainNatsClient | undefined;
  private readonly replicas: AppProcess[] = [];
  private readonly agents: Agent[] = [];
  private demo: AppProcess | undefined;
  private readonly cleanUps: (() => unknown)[] = [];

  constructor(private readonly options: TestStackOptions = {}) {}

  get db(): TestDatabase {
    return started('the database client', this.database);
  }

  get nats(): PlainNatsClient {
    return started('the NATS client', this.client);
  }

  /** The first replica. */
  get orchestrator(): AppProcess {
    return started('the orchestrator', this.replicas[0]);
  }

  /** Every replica, in the order started; a restarted one keeps its place. */
  get orchestrators(): readonly AppProcess[] {
    return this.replicas;
  }

  async start(): Promise<void> {
    this.database = await TestDatabase.connect();
    await this.database.reset();
    await this.options.before?.();
    if (this.options.agentsFirst) await this.startOwnAgents();
    const replicas = Array.from({ length: this.options.replicas ?? 1 }, (_, replica) => replica);
    if (this.options.oneByOne) for (const replica of replicas) await this.launch(replica);
    else await Promise.all(replicas.map((replica) => this.launch(replica)));
    if (!this.options.agentsFirst) await this.startOwnAgents();
    this.client = await PlainNatsClient.connect();
    if (this.options.waitForAgents !== undefined) await this.waitForAgents(this.options.waitForAgents);
  }

  /** Starts one more replica, with these settings over the stack's. */
  startOrchestrator(env: Record<string, string> = {}): Promise<AppProcess> {
    return this.launch(this.replicas.length, env);
  }

  /**
   * Starts a replica again in its place, stopping it first (SIGTERM) if it still runs: after a
   * test has killed or stopped it, or to read changed workflow files. `env` applies to this start.
   */
  async restart(options: { replica?: number; env?: Record<string, string> } = {}): Promise<AppProcess> {
    const replica = options.replica ?? 0;
    await this.replicas[replica]?.stop();
    return this.launch(replica, options.env);
  }

  /** Starts agents of the SDK; they stop with the stack, or at stopAgents. */
  async startAgents(...agents: Agent[]): Promise<Agent[]> {
    this.agents.push(...agents);
    await Promise.all(agents.map((agent) => agent.start()));
    return agents;
  }

  /** Stops the agents of the SDK started so far. */
  async stopAgents(): Promise<void> {
    await Promise.all(this.agents.splice(0).map((agent) => agent.stop()));
  }

  /** Waits until the first replica's registry lists `count` agents; returns their names. */
  waitForAgents(count: number): Promise<string[]> {
    return waitForAgents(this.orchestrator.baseUrl, count);
  }

  /** Sends a task request over NATS and returns the reply. */
  submit(request: unknown, timeoutMs?: number): Promise<Record<string, unknown>> {
    return this.nats.request(ORCHESTRATOR_TASK_SUBJECT, request, timeoutMs);
  }

  /** GETs `path` from the first replica's HTTP API as JSON. */
  async get<T>(path: string): Promise<T> {
    return (await (await fetch(`${this.orchestrator.baseUrl}${path}`)).json()) as T;
  }

  /** Closes the database client if still open and connects a new one, after PostgreSQL restarted. */
  async reconnectDatabase(): Promise<void> {
    await this.database?.close();
    this.database = await TestDatabase.connect();
  }

  /** Runs `cleanUp` when the stack stops, after the agents and orchestrators, the latest first. */
  onStop(cleanUp: () => unknown): void {
    this.cleanUps.push(cleanUp);
  }

  /** Stops all it started, going on past a failure and reporting them all at the end. */
  async stop(): Promise<void> {
    const failures: unknown[] = [];
    const step = async (work: () => unknown): Promise<void> => {
      try {
        await work();
      } catch (error) {
        failures.push(error);
      }
    };
    await step(() => this.client?.close());
    await step(() => this.stopAgents());
    await step(() => this.demo?.stop());
    await step(() => Promise.all(this.replicas.map((replica) => replica.stop())));
    for (const cleanUp of this.cleanUps.splice(0).reverse()) await step(cleanUp);
    await step(() => this.database?.close());
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, 'the test stack did not stop cleanly');
  }

  private async launch(replica: number, env: Record<string, string> = {}): Promise<AppProcess> {
    const base = typeof this.options.env === 'function' ? this.options.env(replica) : this.options.env;
    const app = await startOrchestrator({ workflowsDir: this.options.workflowsDir, env: { ...base, ...env } });
    this.replicas[replica] = app;
    return app;
  }

  private async startOwnAgents(): Promise<void> {
    const { agents, demoAgents } = this.options;
    if (demoAgents) this.demo = startDemoAgents(mkdtempSync(join(tmpdir(), 'published-')), demoAgents === true ? undefined : demoAgents);
    if (agents) await this.startAgents(...agents);
  }
}

/**
 * A test stack for the enclosing describe block: started in its beforeAll, stopped in its afterAll.
 * Hooks the file registers after this call run inside it (vitest runs after-hooks in reverse).
 */
export function useTestStack(options: TestStackOptions = {}): TestStack {
  const stack = new TestStack(options);
  beforeAll(() => stack.start());
  afterAll(() => stack.stop());
  return stack;
}
