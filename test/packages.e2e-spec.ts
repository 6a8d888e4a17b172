import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const PACKAGES = ['contracts', 'agent-sdk', 'client'];

/**
 * What a user of the packages runs, in a project of their own: an agent made with the SDK, and a
 * task submitted with the client, each from the packed tarball and what it declares.
 */
const SCRIPT = `
import { Agent } from '@orchestrator/agent-sdk';
import { OrchestratorClient } from '@orchestrator/client';
import { TaskStatus } from '@orchestrator/contracts';

const [natsUrl, httpUrl, taskId] = process.argv.slice(2);
const agent = new Agent({ name: 'packed_agent', agentType: 'test', natsUrl, logger: { log() {}, warn: console.error, error: console.error } });
agent.handle('shout', (payload) => ({ text: String(payload.text).toUpperCase() }));
await agent.start();
const client = await OrchestratorClient.connect({ natsUrl, httpUrl });
try {
  const response = await client.run({ task_id: taskId, task_type: 'packed_shout', payload: { text: 'from the tarballs' } }, { timeoutMs: 30000 });
  const detail = await client.get(taskId);
  console.log(JSON.stringify({ response, steps: detail.steps.map((s) => [s.step, s.agent, s.status]), completed: TaskStatus.Completed }));
} finally {
  await client.close();
  await agent.stop();
}
`;

describe('the packed packages, installed in a project outside the repository', () => {
  const stack = useTestStack({ workflowsDir: join(ROOT, 'test/fixtures/packages') });
  const packDir = mkdtempSync(join(tmpdir(), 'orchestrator-packs-'));
  const project = mkdtempSync(join(tmpdir(), 'orchestrator-user-'));
  const tarballs: Record<string, string> = {};

  beforeAll(async () => {
    for (const name of PACKAGES) {
      const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd: join(ROOT, 'libs', name) });
      tarballs[name] = join(packDir, stdout.trim().split('\n').at(-1) ?? '');
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'packed-user', private: true, type: 'module' }));
    writeFileSync(join(project, 'main.mjs'), SCRIPT);
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...PACKAGES.map((name) => tarballs[name] ?? '')], {
      cwd: project,
      timeout: 240_000,
    });
  }, 300_000);
  afterAll(() => {
    rmSync(packDir, { recursive: true, force: true });
    rmSync(project, { recursive: true, force: true });
  });

  it('each tarball holds its compiled code, types, their maps and the sources they name, README, license and package.json, and nothing else', async () => {
    for (const name of PACKAGES) {
      const { stdout } = await run('tar', ['-tzf', tarballs[name] ?? '']);
      const files = stdout.trim().split('\n').map((file) => file.replace(/^package\//, '')).sort();
      expect(files.filter((file) => !/^(dist\/[\w.-]+\.(js|d\.ts|js\.map|d\.ts\.map)|src\/[\w.-]+\.ts)$/.test(file))).toEqual(['LICENSE', 'README.md', 'package.json']);
      expect(files).toContain('dist/index.js');
      expect(files).toContain('dist/index.d.ts');
      expect(files.some((file) => file.includes('.spec.'))).toBe(false);
      // Every map a file points at is packed, and so is every source a map names: a debugger or an editor finds them.
      const unpacked = mkdtempSync(join(tmpdir(), `orchestrator-${name}-`));
      await run('tar', ['-xzf', tarballs[name] ?? '', '-C', unpacked]);
      const root = join(unpacked, 'package');
      for (const file of files.filter((f) => /^dist\/.*\.(js|d\.ts)$/.test(f))) {
        const mapName = /\/[/*]# sourceMappingURL=(\S+?)(?: \*\/)?$/m.exec(readFileSync(join(root, file), 'utf8'))?.[1];
        expect(mapName, file).toBeDefined();
        const mapPath = join(dirname(join(root, file)), mapName ?? '');
        expect(existsSync(mapPath), `${file} -> ${mapName}`).toBe(true);
        const { sources } = JSON.parse(readFileSync(mapPath, 'utf8')) as { sources: string[] };
        for (const source of sources) expect(existsSync(join(dirname(mapPath), source)), `${mapName} -> ${source}`).toBe(true);
      }
      rmSync(unpacked, { recursive: true, force: true });
    }
  });

  it('installs from the tarballs alone and what they declare, not from the repository', () => {
    const installed = readdirSync(join(project, 'node_modules', '@orchestrator')).sort();
    expect(installed).toEqual(['agent-sdk', 'client', 'contracts']);
  });

  it('runs an agent of the packed SDK and a task submitted with the packed client to COMPLETED', async () => {
    const taskId = `packed-${Date.now().toString(36)}`;
    const { stdout } = await run(process.execPath, ['main.mjs', testEnv().natsUrl, stack.orchestrator.baseUrl, taskId], { cwd: project, timeout: 60_000 });
    const outcome = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      response: { task_id: string; status: string; success: boolean; result: { output: unknown } };
      steps: [string, string, string][];
      completed: string;
    };
    expect(outcome.response).toMatchObject({ task_id: taskId, status: 'COMPLETED', success: true, result: { output: { shouted: 'FROM THE TARBALLS' } } });
    expect(outcome.steps).toEqual([['shout', 'packed_agent', 'COMPLETED']]);
    expect(outcome.completed).toBe('COMPLETED');
  });
});
