/**
 * `orchestrator`: the command line of the orchestrator's HTTP API (`npx orchestrator --help`).
 */
import { processOutput } from './output.js';
import { runCli } from './program.js';

const status = await runCli(process.argv.slice(2), { output: processOutput(process, process.env), env: process.env });
process.exitCode = status;
