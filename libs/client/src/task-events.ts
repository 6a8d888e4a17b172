import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  isPlainObject,
  TaskEvent,
  taskEventSubject,
  type TaskFinishedEvent,
  type TaskProgressEvent,
  type TaskResponse,
  type TaskStartedEvent,
} from '@orchestrator/contracts';

/** A lifecycle event of a task, as published on `platform.events.task_<event>`. */
export type TaskLifecycleEvent =
  | { event: TaskEvent.Created | TaskEvent.Started; data: TaskStartedEvent }
  | { event: TaskEvent.Progress; data: TaskProgressEvent }
  | { event: TaskEvent.Completed | TaskEvent.Failed | TaskEvent.Cancelled; data: TaskFinishedEvent };

export const FINAL_EVENTS: readonly TaskEvent[] = [TaskEvent.Completed, TaskEvent.Failed, TaskEvent.Cancelled];
export const ALL_EVENTS: readonly TaskEvent[] = Object.values(TaskEvent);

export type EventListener = (event: TaskLifecycleEvent) => void;

/** The final response a `task_completed`, `task_failed` or `task_cancelled` event carries. */
export function finalResponseOf(data: TaskFinishedEvent): TaskResponse {
  const { task_id, status, success, result, error, completed_at } = data;
  return { task_id, status, success, result, error, completed_at };
}

const decoder = new TextDecoder();

/**
 * One subscription per kind of lifecycle event for the whole client, made when first needed and
 * shared by every listener: waiting for many tasks costs no more subscriptions than waiting for one.
 */
export class TaskEventHub {
  private readonly subscriptions = new Map<TaskEvent, Promise<Subscription>>();
  private readonly listeners = new Map<TaskEvent, Set<EventListener>>();

  constructor(private readonly nc: NatsConnection) {}

  /** Calls `listener` for each event of these kinds from the moment this resolves; returns how to stop. */
  async listen(events: readonly TaskEvent[], listener: EventListener): Promise<() => void> {
    for (const event of events) {
      let set = this.listeners.get(event);
      if (!set) this.listeners.set(event, (set = new Set()));
      set.add(listener);
    }
    const stop = (): void => {
      for (const event of events) this.listeners.get(event)?.delete(listener);
    };
    try {
      await Promise.all(events.map((event) => this.subscribed(event)));
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  close(): void {
    for (const subscription of this.subscriptions.values()) void subscription.then((sub) => sub.unsubscribe()).catch(() => undefined);
    this.subscriptions.clear();
    this.listeners.clear();
  }

  /** Subscribed, and the server has it: events published after this are delivered. */
  private subscribed(event: TaskEvent): Promise<Subscription> {
    let subscription = this.subscriptions.get(event);
    if (!subscription) {
      const sub = this.nc.subscribe(taskEventSubject(event), {
        callback: (err, msg) => {
          if (err) return;
          const data = parseEvent(msg.data);
          if (!data) return;
          const lifecycle = { event, data } as TaskLifecycleEvent;
          for (const listener of [...(this.listeners.get(event) ?? [])]) listener(lifecycle);
        },
      });
      subscription = this.nc.flush().then(() => sub);
      this.subscriptions.set(event, subscription);
      subscription.catch(() => this.subscriptions.delete(event));
    }
    return subscription;
  }
}

function parseEvent(data: Uint8Array): TaskLifecycleEvent['data'] | null {
  try {
    const body: unknown = JSON.parse(decoder.decode(data));
    return isPlainObject(body) && typeof body['task_id'] === 'string' ? (body as unknown as TaskLifecycleEvent['data']) : null;
  } catch {
    return null;
  }
}

/**
 * Lifecycle events as an async iterator: `for await (const e of client.events({ taskId }))`.
 * Leaving the loop, `stop()` or the signal ends it. Events wait in memory until read.
 */
export class TaskEventStream implements AsyncIterableIterator<TaskLifecycleEvent> {
  private readonly queue: TaskLifecycleEvent[] = [];
  private waiting: ((result: IteratorResult<TaskLifecycleEvent>) => void) | undefined;
  private unlisten: (() => void) | undefined;
  private done = false;

  /** Use `OrchestratorClient.events()`. */
  constructor(private readonly filter: (event: TaskLifecycleEvent) => boolean) {}

  /** Attaches the stream to the hub; resolves once the server delivers the events. */
  async attach(hub: TaskEventHub, events: readonly TaskEvent[], signal?: AbortSignal): Promise<this> {
    const unlisten = await hub.listen(events, (event) => this.push(event));
    if (this.done) unlisten();
    else this.unlisten = unlisten;
    if (signal?.aborted) this.stop();
    signal?.addEventListener('abort', () => this.stop(), { once: true });
    return this;
  }

  next(): Promise<IteratorResult<TaskLifecycleEvent>> {
    const event = this.queue.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<TaskLifecycleEvent>> {
    this.stop();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends the stream: events not yet read are still given, then it is done. */
  stop(): void {
    if (this.done) return;
    this.done = true;
    this.unlisten?.();
    this.unlisten = undefined;
    if (this.waiting && this.queue.length === 0) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  private push(event: TaskLifecycleEvent): void {
    if (this.done || !this.filter(event)) return;
    const resolve = this.waiting;
    if (resolve) {
      this.waiting = undefined;
      resolve({ value: event, done: false });
    } else {
      this.queue.push(event);
    }
  }
}
