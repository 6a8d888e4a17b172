import { describe, expect, it } from 'vitest';
import { runAgents } from './run-agents.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

class FakeAgent {
  readonly calls: string[] = [];
  constructor(
    readonly name: string,
    private readonly failStart = false,
  ) {}
  start(): Promise<void> {
    this.calls.push('start');
    return this.failStart ? Promise.reject(new Error(`${this.name} cannot connect`)) : Promise.resolve();
  }
  stop(): Promise<void> {
    this.calls.push('stop');
    return Promise.resolve();
  }
}

describe('runAgents', () => {
  it('starts every agent and stops them all on a signal, then runs afterStop', async () => {
    const agents = [new FakeAgent('a'), new FakeAgent('b')];
    const order: string[] = [];
    const running = await runAgents(agents, {
      logger: quiet,
      exit: false,
      signals: ['SIGUSR2'],
      afterStop: () => Promise.resolve(void order.push('afterStop')),
    });
    expect(agents.map((a) => a.calls)).toEqual([['start'], ['start']]);
    process.emit('SIGUSR2', 'SIGUSR2');
    await running.stop();
    expect(agents.map((a) => a.calls)).toEqual([['start', 'stop'], ['start', 'stop']]);
    expect(order).toEqual(['afterStop']);
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });

  it('stops the agents already started when another fails to start', async () => {
    const agents = [new FakeAgent('a'), new FakeAgent('b', true)];
    await expect(runAgents(agents, { logger: quiet, exit: false, signals: ['SIGUSR2'] })).rejects.toThrow('b cannot connect');
    expect(agents[0]?.calls).toEqual(['start', 'stop']);
    expect(agents[1]?.calls).toEqual(['start']);
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });
});
