import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;

/** Stops or starts one of the servers `npm test` started (scripts/infra.sh), on the same port and data. */
export async function infra(action: 'stop' | 'start', service: 'nats' | 'postgres' | 'redis'): Promise<void> {
  const dir = process.env['INFRA_DIR'];
  if (!dir) throw new Error('INFRA_DIR is not set: run the end-to-end tests through "npm test"');
  await run('bash', [`${ROOT}/scripts/infra.sh`, action, service, '--dir', dir], { env: process.env });
}
