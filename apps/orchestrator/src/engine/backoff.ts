import { fullJitterGenerator } from 'cockatiel';
import type { BackoffPolicy } from '../planning/workflow-definition.js';

/**
 * Delay before the attempt that follows `failedAttempts` failures: exponential with full jitter,
 * capped — a random delay in [0, min(max_ms, initial_ms * 2^(failedAttempts-1))).
 */
export function retryDelayMs(policy: BackoffPolicy, failedAttempts: number): number {
  const [delay] = fullJitterGenerator(Math.max(0, failedAttempts - 1), {
    initialDelay: policy.initial_ms,
    maxDelay: policy.max_ms,
    exponent: 2,
    generator: fullJitterGenerator,
  });
  return delay;
}
