import type { Agent } from './agent.js';
import { consoleLogger, type AgentLogger } from './agent-logger.js';

export interface RunAgentsOptions {
  logger?: AgentLogger;
  /** Default SIGINT and SIGTERM. */
  signals?: NodeJS.Signals[];
  /** Runs after every agent has stopped, e.g. to close a connection they share. */
  afterStop?: () => Promise<void>;
  /** Exit the process once stopped (default true); a second signal while stopping exits at once. */
  exit?: boolean;
}

export interface RunningAgents {
  /** Stops every agent (and runs `afterStop`); the same promise on every call. */
  stop(): Promise<void>;
}

/** Starts the agents and stops them cleanly on SIGINT or SIGTERM. If one fails to start, the others are stopped. */
export async function runAgents(
  agents: readonly Pick<Agent, 'name' | 'start' | 'stop'>[],
  options: RunAgentsOptions = {},
): Promise<RunningAgents> {
  const logger = options.logger ?? consoleLogger('agents');
  const exit = options.exit ?? true;
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];

  const started = await Promise.allSettled(agents.map((agent) => agent.start()));
  const failure = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure) {
    await Promise.allSettled(agents.filter((_, i) => started[i]?.status === 'fulfilled').map((agent) => agent.stop()));
    await options.afterStop?.().catch(() => undefined);
    throw failure.reason;
  }
  logger.log(`started ${agents.map((agent) => agent.name).join(', ')}`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const signal of signals) process.off(signal, onSignal);
      const outcomes = await Promise.allSettled(agents.map((agent) => agent.stop()));
      let failed = false;
      for (const [i, outcome] of outcomes.entries()) {
        if (outcome.status === 'rejected') {
          failed = true;
          logger.error(`${agents[i]?.name ?? 'agent'} did not stop cleanly: ${String(outcome.reason)}`);
        }
      }
      try {
        await options.afterStop?.();
      } catch (error) {
        failed = true;
        logger.error(`after stop: ${String(error)}`);
      }
      logger.log('stopped');
      if (exit) process.exit(failed ? 1 : 0);
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn(`${signal} again: exiting without waiting`);
      if (exit) process.exit(1);
      return;
    }
    logger.log(`${signal}: stopping`);
    void stop();
  };
  for (const signal of signals) process.on(signal, onSignal);
  return { stop };
}
