import { spawn } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(new URL('../..', import.meta.url).pathname, 'apps/cli/bin/orchestrator.js');

/** What a run of the command line printed and how it exited. */
export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `orchestrator` command (what `npx orchestrator` runs) with these settings over the test's environment. */
export function runCli(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
