import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/transport-node';
import {
  agentAnnouncementSubject,
  agentCancelSubject,
  agentResponseSubject,
  agentTaskSubject,
  validateAgentAnnouncement,
} from '@orchestrator/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Agent, type AgentOptions } from './agent.js';

interface Published {
  subject: string;
  body: unknown;
  headers: Record<string, string>;
}

type Callback = (err: Error | null, msg: Msg) => void;

/** Just enough of a NatsConnection to drive an Agent in memory: what it publishes is recorded. */
class InMemoryNats {
  readonly published: Published[] = [];
  readonly subscriptions = new Map<string, { queue: string | undefined; callback: Callback }>();
  readonly info = { max_payload: 4_096 };

  subscribe(subject: string, opts: { queue?: string; callback: Callback }): Subscription {
    this.subscriptions.set(subject, { queue: opts.queue, callback: opts.callback });
    const drop = (): void => void this.subscriptions.delete(subject);
    return { drain: () => Promise.resolve(drop()), unsubscribe: drop } as unknown as Subscription;
  }

  publish(subject: string, data: Uint8Array, opts: { headers?: MsgHdrs } = {}): void {
    const headers: Record<string, string> = {};
    for (const [key, values] of opts.headers ?? []) headers[key] = values[0] ?? '';
    this.published.push({ subject, body: JSON.parse(new TextDecoder().decode(data)), headers });
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  isClosed(): boolean {
    return false;
  }

  isDraining(): boolean {
    return false;
  }

  deliver(subject: string, body: unknown, options: { reply?: string; headers?: Record<string, string> } = {}): void {
    const sub = this.subscriptions.get(subject);
    if (!sub) throw new Error(`nobody subscribes ${subject}`);
    let hdrs: MsgHdrs | undefined;
    if (options.headers) {
      hdrs = natsHeaders();
      for (const [key, value] of Object.entries(options.headers)) hdrs.set(key, value);
    }
    const data = new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
    const msg = {
      subject,
      reply: options.reply ?? '',
      data,
      headers: hdrs,
      json: () => JSON.parse(new TextDecoder().decode(data)) as unknown,
      respond: (payload: Uint8Array, opts?: { headers?: MsgHdrs }) => {
        this.publish(options.reply ?? '', payload, opts);
        return true;
      },
    };
    sub.callback(null, msg as unknown as Msg);
  }

  answersOn(subject: string): Published[] {
    return this.published.filter((p) => p.subject === subject);
  }
}

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function agentOn(nats: InMemoryNats, options: Partial<AgentOptions> = {}): Agent {
  return new Agent({
    name: 'test_agent',
    agentType: 'test',
    connection: nats as unknown as NatsConnection,
    logger: quiet,
    instanceId: 'instance-1',
    ...options,
  });
}

describe('Agent', () => {
  afterEach(() => vi.useRealTimers());

  it('refuses a name that breaks the agent-name rule', () => {
    expect(() => agentOn(new InMemoryNats(), { name: 'bad.name' })).toThrow('does not match');
    expect(() => agentOn(new InMemoryNats(), { name: 'all>' })).toThrow('does not match');
  });

  it('subscribes its task subject in its queue group and announces a valid AgentAnnouncement', async () => {
    const nats = new InMemoryNats();
    const agent = agentOn(nats, { maxConcurrency: 3 }).handle('one', () => ({})).handle('two', () => ({}));
    await agent.start();
    expect(nats.subscriptions.get(agentTaskSubject('test_agent'))?.queue).toBe('test_agent');
    expect(nats.subscriptions.get(agentCancelSubject('test_agent'))?.queue).toBeUndefined();
    const [registered] = nats.answersOn(agentAnnouncementSubject('test_agent', 'registered'));
    const announcement = validateAgentAnnouncement(registered?.body);
    expect(announcement.ok).toBe(true);
    expect(registered?.body).toMatchObject({
      name: 'test_agent',
      instance_id: 'instance-1',
      agent_type: 'test',
      capabilities: ['one', 'two'],
      load: { in_flight: 0, max_concurrency: 3 },
    });
    await agent.stop();
    expect(nats.subscriptions.size).toBe(0);
  });

  it('sends heartbeats with its current load', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const nats = new InMemoryNats();
    let release: () => void = () => undefined;
    const agent = agentOn(nats, { heartbeatIntervalMs: 1_000 }).handle(
      'slow',
      () => new Promise((resolve) => (release = () => resolve({}))),
    );
    await agent.start();
    nats.deliver(agentTaskSubject('test_agent'), { task_id: 't-1', task_type: 'slow' });
    await tick();
    vi.advanceTimersByTime(2_000);
    const beats = nats.answersOn(agentAnnouncementSubject('test_agent', 'heartbeat'));
    expect(beats).toHaveLength(2);
    expect(beats[1]?.body).toMatchObject({ name: 'test_agent', load: { in_flight: 1, max_concurrency: 8 } });
    release();
    await agent.stop();
    vi.advanceTimersByTime(5_000);
    expect(nats.answersOn(agentAnnouncementSubject('test_agent', 'heartbeat'))).toHaveLength(2);
  });

  it('replies to the reply subject, with the trace headers of the request', async () => {
    const nats = new InMemoryNats();
    const agent = agentOn(nats).handle('echo', (payload) => ({ echo: payload }));
    await agent.start();
    nats.deliver(
      agentTaskSubject('test_agent'),
      { task_id: 't-1', task_type: 'echo', payload: { a: 1 } },
      { reply: 'inbox.1', headers: { traceparent: '00-abc-def-01', 'Orchestrator-Step': 'draft' } },
    );
    await agent.stop();
    const [answer] = nats.answersOn('inbox.1');
    expect(answer?.body).toMatchObject({ task_id: 't-1', status: 'COMPLETED', result: { echo: { a: 1 } } });
    expect(answer?.headers).toEqual({ traceparent: '00-abc-def-01' });
    expect(nats.answersOn(agentResponseSubject('test_agent'))).toHaveLength(0);
  });

  it('publishes on agent.<name>.response when asked to, or when there is no reply subject', async () => {
    const nats = new InMemoryNats();
    const publishing = agentOn(nats, { answerBy: 'publish' }).handle('echo', () => ({ ok: true }));
    await publishing.start();
    nats.deliver(agentTaskSubject('test_agent'), { task_id: 't-1', task_type: 'echo' }, { reply: 'inbox.1' });
    nats.deliver(agentTaskSubject('test_agent'), { task_id: 't-2', task_type: 'echo' });
    await publishing.stop();
    expect(nats.answersOn('inbox.1')).toHaveLength(0);
    expect(nats.answersOn(agentResponseSubject('test_agent')).map((a) => (a.body as { task_id: string }).task_id)).toEqual(['t-1', 't-2']);
  });

  it('answers malformed messages and survives them', async () => {
    const nats = new InMemoryNats();
    const agent = agentOn(nats).handle('echo', () => ({}));
    await agent.start();
    nats.deliver(agentTaskSubject('test_agent'), 'not json', { reply: 'inbox.1' });
    nats.deliver(agentTaskSubject('test_agent'), { task_id: 't-1' }, { reply: 'inbox.2' });
    nats.deliver(agentCancelSubject('test_agent'), 'not json either');
    nats.deliver(agentCancelSubject('test_agent'), { task_id: 42 });
    nats.deliver(agentTaskSubject('test_agent'), { task_id: 't-2', task_type: 'echo' }, { reply: 'inbox.3' });
    await agent.stop();
    expect(nats.answersOn('inbox.1')[0]?.body).toMatchObject({ status: 'FAILED', error: 'message: is not valid JSON' });
    expect(nats.answersOn('inbox.2')[0]?.body).toMatchObject({ task_id: 't-1', status: 'FAILED' });
    expect(nats.answersOn('inbox.3')[0]?.body).toMatchObject({ task_id: 't-2', status: 'COMPLETED' });
  });

  it('cancels a running task from agent.<name>.cancel', async () => {
    const nats = new InMemoryNats();
    const agent = agentOn(nats).handle(
      'slow',
      (_payload, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))),
    );
    await agent.start();
    nats.deliver(agentTaskSubject('test_agent'), { task_id: 't-1', task_type: 'slow' }, { reply: 'inbox.1' });
    await tick();
    nats.deliver(agentCancelSubject('test_agent'), { task_id: 't-1' });
    await agent.stop();
    expect(nats.answersOn('inbox.1')[0]?.body).toMatchObject({ task_id: 't-1', status: 'CANCELLED' });
  });

  it('on stop, stops taking tasks but lets the ones taken finish and answer', async () => {
    const nats = new InMemoryNats();
    let release: () => void = () => undefined;
    const agent = agentOn(nats, { maxConcurrency: 1 }).handle(
      'slow',
      () => new Promise((resolve) => (release = () => resolve({ done: true }))),
    );
    await agent.start();
    nats.deliver(agentTaskSubject('test_agent'), { task_id: 't-1', task_type: 'slow' }, { reply: 'inbox.1' });
    nats.deliver(agentTaskSubject('test_agent'), { task_id: 't-2', task_type: 'slow' }, { reply: 'inbox.2' });
    await tick();
    let stopped = false;
    const stopping = agent.stop().then(() => (stopped = true));
    await tick();
    expect(nats.subscriptions.has(agentTaskSubject('test_agent'))).toBe(false);
    expect(stopped).toBe(false);
    release();
    await tick();
    release();
    await stopping;
    expect(nats.answersOn('inbox.1')[0]?.body).toMatchObject({ status: 'COMPLETED' });
    expect(nats.answersOn('inbox.2')[0]?.body).toMatchObject({ status: 'COMPLETED' });
    expect(agent.stats).toMatchObject({ completed: 2, maxInFlightSeen: 1, maxHeldSeen: 2 });
  });

  it('answers FAILED instead of an answer larger than the server accepts', async () => {
    const nats = new InMemoryNats();
    const agent = agentOn(nats).handle('big', () => ({ text: 'x'.repeat(10_000) }));
    await agent.start();
    nats.deliver(agentTaskSubject('test_agent'), { task_id: 't-1', task_type: 'big' }, { reply: 'inbox.1' });
    await agent.stop();
    expect(nats.answersOn('inbox.1')[0]?.body).toMatchObject({ task_id: 't-1', status: 'FAILED' });
    expect((nats.answersOn('inbox.1')[0]?.body as { error: string }).error).toContain("exceeds the server's max_payload of 4096 bytes");
  });
});
