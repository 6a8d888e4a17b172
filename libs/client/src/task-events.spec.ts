import { TaskEvent, TaskStatus } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { TaskEventStream, type EventListener, type TaskEventHub, type TaskLifecycleEvent } from './task-events.js';

/** A hub that hands events to its listeners when told: the stream's own logic, without a server. */
function hub(): { hub: TaskEventHub; emit: (event: TaskLifecycleEvent) => void; listening: () => number } {
  const listeners = new Set<EventListener>();
  const fake = {
    listen: (_events: readonly TaskEvent[], listener: EventListener) => {
      listeners.add(listener);
      return Promise.resolve(() => listeners.delete(listener));
    },
  } as unknown as TaskEventHub;
  return { hub: fake, emit: (event) => [...listeners].forEach((l) => l(event)), listening: () => listeners.size };
}

const started = (taskId: string): TaskLifecycleEvent => ({
  event: TaskEvent.Started,
  data: { task_id: taskId, task_type: 'x', status: TaskStatus.Running, ts: 1 },
});

describe('TaskEventStream', () => {
  it('gives the events that pass its filter, in order, whether read before or after they come', async () => {
    const { hub: h, emit } = hub();
    const stream = await new TaskEventStream((e) => e.data.task_id === 'a').attach(h, [TaskEvent.Started]);
    emit(started('a'));
    emit(started('b'));
    expect((await stream.next()).value).toEqual(started('a'));
    const waiting = stream.next();
    emit(started('c'));
    emit({ event: TaskEvent.Created, data: started('a').data } as TaskLifecycleEvent);
    expect((await waiting).value).toMatchObject({ event: TaskEvent.Created, data: { task_id: 'a' } });
  });

  it('ends a pending read on stop, after what it holds, and stops listening', async () => {
    const { hub: h, emit, listening } = hub();
    const stream = await new TaskEventStream(() => true).attach(h, [TaskEvent.Started]);
    emit(started('a'));
    stream.stop();
    expect(listening()).toBe(0);
    expect((await stream.next()).value).toEqual(started('a'));
    expect(await stream.next()).toEqual({ value: undefined, done: true });

    const other = await new TaskEventStream(() => true).attach(h, [TaskEvent.Started]);
    const pending = other.next();
    other.stop();
    expect(await pending).toEqual({ value: undefined, done: true });
  });

  it('ends when its signal aborts, and when a for-await loop is left', async () => {
    const { hub: h, emit, listening } = hub();
    const controller = new AbortController();
    const stream = await new TaskEventStream(() => true).attach(h, [TaskEvent.Started], controller.signal);
    controller.abort();
    expect(await stream.next()).toEqual({ value: undefined, done: true });

    const looped = await new TaskEventStream(() => true).attach(h, [TaskEvent.Started]);
    emit(started('a'));
    for await (const event of looped) {
      expect(event).toEqual(started('a'));
      break;
    }
    expect(listening()).toBe(0);
  });
});
