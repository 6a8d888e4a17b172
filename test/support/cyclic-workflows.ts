import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The problems a folder from `cyclicWorkflows` must be refused with. */
export function cyclicWorkflowProblems(dir: string): string[] {
  return [
    `${join(dir, 'e2e_loop.yaml')}: steps[0] (again): workflow "e2e_loop" calls itself`,
    `workflows call each other in a cycle: e2e_ping -> e2e_pong -> e2e_ping (${join(dir, 'e2e_ping.yaml')}: steps[0] (serve); ${join(dir, 'e2e_pong.yaml')}: steps[1] (back))`,
  ];
}

/** A new folder holding a workflow that runs itself and two that run each other, each otherwise valid. */
export function cyclicWorkflows(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cyclic-workflows-'));
  const files: Record<string, string[]> = {
    e2e_loop: ['  - { id: again, workflow: e2e_loop }'],
    e2e_ping: ['  - { id: serve, workflow: e2e_pong }'],
    e2e_pong: ['  - { id: first, agent: e2e_first, task_type: e2e_upper }', '  - { id: back, workflow: e2e_ping, depends_on: [first] }'],
  };
  for (const [taskType, steps] of Object.entries(files)) {
    writeFileSync(join(dir, `${taskType}.yaml`), [`task_type: ${taskType}`, 'version: 1', 'steps:', ...steps, ''].join('\n'));
  }
  return dir;
}
