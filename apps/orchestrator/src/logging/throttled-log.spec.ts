import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@nestjs/common';
import { beforeEach, describe, expect, it } from 'vitest';
import { ThrottledLog } from './throttled-log.js';

describe('ThrottledLog', () => {
  const warnings: string[] = [];
  const logger = { warn: (message: string) => warnings.push(message) } as unknown as Logger;
  let now = 1_000;
  const clock = { now: () => now };
  // lru-cache reads the clock at most once a millisecond of real time: let one pass.
  const advance = async (ms: number): Promise<void> => {
    now += ms;
    await sleep(5);
  };

  beforeEach(() => {
    warnings.length = 0;
  });

  it('logs a key once a minute at most, and again once the minute has passed', async () => {
    const log = new ThrottledLog(logger, 100, clock);
    log.warn('sender-a', 'a 1');
    log.warn('sender-a', 'a 2');
    log.warn('sender-b', 'b 1');
    await advance(59_000);
    log.warn('sender-a', 'a 3');
    expect(warnings).toEqual(['a 1', 'b 1']);
    await advance(1_001);
    log.warn('sender-a', 'a 4');
    log.warn('sender-a', 'a 5');
    expect(warnings).toEqual(['a 1', 'b 1', 'a 4']);
  });

  it('remembers a bounded number of keys: a sender in a loop of new keys fills neither the log nor memory beyond it', () => {
    const log = new ThrottledLog(logger, 2, clock);
    log.warn('k1', 'k1 first');
    log.warn('k2', 'k2 first');
    log.warn('k3', 'k3 first');
    // k1 was forgotten to make room for k3: within the minute it is logged again.
    log.warn('k1', 'k1 again');
    log.warn('k3', 'k3 again');
    expect(warnings).toEqual(['k1 first', 'k2 first', 'k3 first', 'k1 again']);
  });
});
