import { Command, CommanderError } from 'commander';
import type { OrchestratorClient } from '@orchestrator/client';
import { CommandFailed, describeError, EXIT_OK, EXIT_USAGE, exitCodeOf } from './cli-error.js';
import { addCatalogCommands } from './commands/catalog-commands.js';
import type { CommandContext } from './commands/command-context.js';
import { addSignalCommands } from './commands/signal-commands.js';
import { addScheduleCommands } from './commands/schedule-commands.js';
import { addTaskCommands } from './commands/task-commands.js';
import type { Output } from './output.js';
import { connectClient, readSettings, type Settings } from './settings.js';

export interface CliDependencies {
  output: Output;
  env: Record<string, string | undefined>;
  /** How a client is made from the settings; the HTTP client by default. */
  connect?: (settings: Settings) => Promise<OrchestratorClient>;
}

const HELP_AFTER = `
Environment:
  ORCHESTRATOR_URL  the orchestrator's HTTP API (default http://127.0.0.1:3000; --url wins)
  API_KEY           sent as X-API-Key when the orchestrator requires it
  NO_COLOR          no colours (there are none either when the output is not a terminal)

Exit status: 0 done (a watched task completed); 1 a failure (the task failed or was cancelled, the
orchestrator refused or could not be reached); 2 a wrong command line or a request the orchestrator
refused as malformed (HTTP 400, the field named).`;

/** The `orchestrator` command and its subcommands; errors are thrown, not printed and exited. */
export function buildProgram(deps: CliDependencies): Command {
  const { output } = deps;
  const program = new Command('orchestrator')
    .description("the orchestrator's command line: submit tasks and watch them run, approve and signal those that wait, read tasks, agents and workflows, manage schedules")
    .option('--url <url>', "the orchestrator's HTTP API (default: ORCHESTRATOR_URL, else http://127.0.0.1:3000)")
    .addHelpText('after', HELP_AFTER)
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (text) => output.write(text), writeErr: (text) => output.error(text.replace(/\n$/, '')) })
    .exitOverride();
  const context: CommandContext = {
    output,
    env: deps.env,
    async withClient(work) {
      const settings = readSettings(deps.env, program.opts<{ url?: string }>().url);
      const client = await (deps.connect ?? connectClient)(settings);
      try {
        return await work(client, output);
      } finally {
        await client.close();
      }
    },
  };
  addTaskCommands(program, context);
  addSignalCommands(program, context);
  addCatalogCommands(program, context);
  addScheduleCommands(program, context);
  // Subcommands report their own usage errors the same way.
  for (const command of program.commands) command.exitOverride().showHelpAfterError('(add --help for usage)');
  for (const command of program.commands.flatMap((c) => c.commands)) command.exitOverride().showHelpAfterError('(add --help for usage)');
  return program;
}

/** Runs the command line `args` (without node and the script) and returns the exit status. */
export async function runCli(args: readonly string[], deps: CliDependencies): Promise<number> {
  const program = buildProgram(deps);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and the version are printed by commander; its other errors are usage errors, printed too.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (!(error instanceof CommandFailed)) deps.output.error(...describeError(error));
    return exitCodeOf(error);
  }
}
