import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from '@orchestrator/agent-sdk';
import { testEnv } from './test-env.js';

export interface PairAgentOptions {
  delayMs?: number;
  maxConcurrency?: number;
  answerBy?: 'reply' | 'publish';
}

/**
 * The two agents of the test workflows `e2e_pair`, `e2e_resilient` and `e2e_slow_pair`:
 * `e2e_first` upper-cases `text`, `e2e_second` wraps it in brackets. Not started.
 */
export function pairAgents(options: PairAgentOptions = {}): Agent[] {
  const common = { agentType: 'test', natsUrl: testEnv().natsUrl, answerBy: options.answerBy ?? 'reply', maxConcurrency: options.maxConcurrency ?? 8 } as const;
  const first = new Agent({ ...common, name: 'e2e_first' }).handle('e2e_upper', async (payload) => {
    if (options.delayMs) await sleep(options.delayMs);
    return { text: String(payload['text']).toUpperCase() };
  });
  const second = new Agent({ ...common, name: 'e2e_second' }).handle('e2e_wrap', async (payload) => {
    if (options.delayMs) await sleep(options.delayMs);
    return { text: `[${String(payload['text'])}]` };
  });
  return [first, second];
}
