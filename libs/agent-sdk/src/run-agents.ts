import type { Agent } from './agent.js';

/** Starts the agents and stops them cleanly on SIGINT or SIGTERM. */
export async function runAgents(agents: Agent[], log: (message: string) => void = console.log): Promise<void> {
  await Promise.all(agents.map((agent) => agent.start()));
  log(`started ${agents.map((agent) => agent.name).join(', ')}`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    void Promise.allSettled(agents.map((agent) => agent.stop())).then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
