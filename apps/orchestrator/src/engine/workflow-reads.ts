import { Injectable } from '@nestjs/common';
import DataLoader from 'dataloader';
import { LRUCache } from 'lru-cache';
import { itemIndex } from '../persistence/step-keys.js';
import type { TaskRow } from '../persistence/task-rows.js';
import type { KeptSignal, WorkflowTransaction } from '../persistence/workflow-transaction.js';
import type { Plan, ReplacedPlan } from '../planning/plan.js';
import { KeyGate } from './concurrency/key-gate.js';
import type { WorkflowReads } from './workflow.js';

type Json = Record<string, unknown>;

/**
 * What never changes once committed, kept by this replica so that a transition rarely has to
 * read it: a workflow's plan (per revision), its request's payload, the results of its steps.
 * Results are kept only after their commit, and consulted only for rows the database says are
 * complete; a request's payload is kept as its root is inserted (its root's id is new, so nothing
 * can read it unless that insert commits).
 */
@Injectable()
export class WorkflowCaches {
  readonly plans = new LRUCache<string, Plan>({ max: 10_000 });
  readonly payloads = new LRUCache<string, Json>({ maxSize: 32 * 1024 * 1024 });
  readonly results = new LRUCache<string, Json>({ maxSize: 64 * 1024 * 1024 });

  planKey(rootId: string, revision: number): string {
    return `${rootId}@${revision}`;
  }

  rememberResult(rowId: string, result: Json): void {
    this.remember(this.results, rowId, result);
  }

  rememberPayload(rootId: string, payload: Json): void {
    this.remember(this.payloads, rootId, payload);
  }

  private remember(cache: LRUCache<string, Json>, key: string, value: Json): void {
    // Measured once, as it goes in; values over an eighth of the cache are not worth keeping.
    const size = JSON.stringify(value).length;
    if (size <= cache.maxSize / 8) cache.set(key, value, { size });
  }
}

/** DataLoader wants one value per key, in the keys' order. */
function inOrder<K, V>(keys: readonly K[], found: Map<K, V>, what: string): (V | Error)[] {
  return keys.map((key) => (found.has(key) ? (found.get(key) as V) : new Error(`${what} ${String(key)} is not in the database`)));
}

/**
 * The reads of one batch of transitions: each kind of read asked by any of its workflows in the
 * same turn of the event loop goes to the database as one query.
 */
export class BatchReads implements WorkflowReads {
  private readonly payloadLoader: DataLoader<string, Json>;
  private readonly resultLoader: DataLoader<string, Json | null>;
  private readonly planLoader: DataLoader<string, Plan>;
  private readonly itemLoader: DataLoader<string, TaskRow>;
  private readonly itemResultsLoader: DataLoader<string, unknown[]>;
  readonly gate: KeyGate;
  private readonly keptSignalsLoader: DataLoader<string, KeptSignal[]>;

  constructor(
    private readonly tx: WorkflowTransaction,
    private readonly caches: WorkflowCaches,
  ) {
    this.gate = new KeyGate(tx);
    this.payloadLoader = new DataLoader(async (ids) => inOrder(ids, new Map((await tx.payloads(ids)).map((r) => [r.id, r.payload])), 'row'));
    this.resultLoader = new DataLoader(async (ids) => inOrder(ids, new Map((await tx.results(ids)).map((r) => [r.id, r.result])), 'row'));
    this.planLoader = new DataLoader(async (ids) => inOrder(ids, new Map((await tx.plans(ids)).map((r) => [r.id, r.plan])), 'workflow'));
    this.itemLoader = new DataLoader(async (keys) => {
      const pairs = keys.map((key) => key.split('/') as [string, string]);
      const rows = await tx.itemsByKey(pairs.map(([parent]) => parent), pairs.map(([, key]) => key));
      return inOrder(keys, new Map(rows.map((row) => [`${row.parent_id ?? ''}/${row.step_key}`, row])), 'item');
    });
    this.itemResultsLoader = new DataLoader(async (parents) => {
      const byParent = new Map<string, { index: number; result: unknown }[]>(parents.map((id) => [id, []]));
      for (const row of await tx.itemResults(parents)) byParent.get(row.parent_id)?.push({ index: itemIndex(row.step_key), result: row.result });
      return parents.map((id) => (byParent.get(id) ?? []).filter((item) => item.index >= 0).sort((a, b) => a.index - b.index).map((item) => item.result));
    });
    this.keptSignalsLoader = new DataLoader(async (roots) => {
      const byRoot = new Map<string, KeptSignal[]>(roots.map((id) => [id, []]));
      for (const { root_id, ...signal } of await tx.keptSignals(roots)) byRoot.get(root_id)?.push(signal);
      return roots.map((id) => byRoot.get(id) ?? []);
    });
  }

  async plan(rootId: string, revision: number): Promise<Plan> {
    const key = this.caches.planKey(rootId, revision);
    const cached = this.caches.plans.get(key);
    if (cached) return cached;
    const plan = await this.planLoader.load(rootId);
    this.caches.plans.set(key, plan);
    return plan;
  }

  requestPayload(rootId: string): Promise<Json> {
    return Promise.resolve(this.caches.payloads.get(rootId) ?? this.payloadLoader.load(rootId));
  }

  result(rowId: string): Promise<Json | null> {
    return Promise.resolve(this.caches.results.get(rowId) ?? this.resultLoader.load(rowId));
  }

  payload(rowId: string): Promise<Json> {
    return this.payloadLoader.load(rowId);
  }

  async items(parentId: string, keys: readonly string[]): Promise<TaskRow[]> {
    return this.itemLoader.loadMany(keys.map((key) => `${parentId}/${key}`)).then((rows) =>
      rows.map((row) => {
        if (row instanceof Error) throw row;
        return row;
      }),
    );
  }

  itemResults(parentId: string): Promise<unknown[]> {
    return this.itemResultsLoader.load(parentId);
  }

  planHistory(rootId: string): Promise<ReplacedPlan[]> {
    return this.tx.planHistory(rootId);
  }

  keptSignals(rootId: string): Promise<KeptSignal[]> {
    return this.keptSignalsLoader.load(rootId);
  }

  signalSeen(rootId: string, signalId: string): Promise<boolean> {
    return this.tx.signalSeen(rootId, signalId);
  }

  async keptEvents(event: string, since: Date, match: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    return (await this.tx.keptEvents(event, since, match)).map((row) => row.payload);
  }
}
