import { setTimeout as sleep } from 'node:timers/promises';
import type { Subscription } from '@nats-io/transport-node';
import { ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import type { PlainNatsClient } from './nats-client.js';

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/**
 * A requester that survives orchestrators dying under it, as a careful client would: each task is
 * published with a reply subject of its own, and resubmitted (same task_id, which is safe) only
 * when it was never received — NATS said nobody listened, or nothing came back for a while and
 * the orchestrator does not know the task.
 */
export class ResilientRequester {
  readonly finals = new Map<string, Record<string, unknown>[]>();
  noResponders = 0;
  resubmitted = 0;
  private readonly heard = new Set<string>();
  private readonly sentAt = new Map<string, number>();
  private readonly requests = new Map<string, Record<string, unknown>>();
  private subscription: Subscription | undefined;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    private readonly nats: PlainNatsClient,
    private readonly prefix: string,
    /** The base URL of any live orchestrator, for GET /tasks/:id. */
    private readonly baseUrl: () => string,
  ) {}

  async start(): Promise<void> {
    this.subscription = this.nats.nc.subscribe(`${this.prefix}.>`, {
      callback: (_error, msg) => {
        const taskId = msg.subject.slice(this.prefix.length + 1);
        if (msg.headers?.code === 503) {
          this.noResponders += 1;
          setTimeout(() => this.send(taskId, true), 300);
          return;
        }
        this.heard.add(taskId);
        const response = msg.json<Record<string, unknown>>();
        if (TERMINAL.has(String(response['status']))) this.finals.set(taskId, [...(this.finals.get(taskId) ?? []), response]);
      },
    });
    await this.nats.flush();
    let checking = false;
    this.watchdog = setInterval(() => {
      if (checking) return;
      checking = true;
      void this.resubmitLost().finally(() => (checking = false));
    }, 1_000);
  }

  submit(request: Record<string, unknown> & { task_id: string }): void {
    this.requests.set(request.task_id, request);
    this.send(request.task_id, false);
  }

  /** Submits `requests` in batches of `batch` every `everyMs`. */
  async submitPaced(requests: (Record<string, unknown> & { task_id: string })[], batch: number, everyMs: number): Promise<void> {
    for (let i = 0; i < requests.length; i += batch) {
      requests.slice(i, i + batch).forEach((request) => this.submit(request));
      await sleep(everyMs);
    }
  }

  stop(): void {
    clearInterval(this.watchdog);
    this.subscription?.unsubscribe();
  }

  private send(taskId: string, again: boolean): void {
    if (again) this.resubmitted += 1;
    this.sentAt.set(taskId, Date.now());
    this.nats.nc.publish(ORCHESTRATOR_TASK_SUBJECT, JSON.stringify(this.requests.get(taskId)), { reply: `${this.prefix}.${taskId}` });
  }

  private async resubmitLost(): Promise<void> {
    for (const [taskId, at] of this.sentAt) {
      if (this.heard.has(taskId) || Date.now() - at < 10_000) continue;
      const res = await fetch(`${this.baseUrl()}/tasks/${taskId}`).catch(() => null);
      if (res?.status === 404) this.send(taskId, true);
      else if (res?.status === 200) this.sentAt.set(taskId, Date.now());
    }
  }
}
