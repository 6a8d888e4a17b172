import type { OrchestratorClient } from '@orchestrator/client';
import type { Output } from '../output.js';

/** What a command's action is given: a client of the HTTP API for as long as it runs, and where to write. */
export interface CommandContext {
  readonly output: Output;
  readonly env: Record<string, string | undefined>;
  /** Runs `work` with a client made from the global options and the environment, and closes it after. */
  withClient<T>(work: (client: OrchestratorClient, out: Output) => Promise<T>): Promise<T>;
}
