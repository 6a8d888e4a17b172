import { mkdtempSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppConfig } from '../config/app-config.js';
import { WorkflowDefinitionError } from './planning.errors.js';
import { WorkflowCatalog } from './workflow-catalog.service.js';

const file = (taskType: string, version: number, comment = ''): string =>
  `${comment}task_type: ${taskType}\nversion: ${version}\nsteps:\n  - id: only\n    agent: some_agent\n    task_type: work\n    input: {}\n`;

describe('WorkflowCatalog.reload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
  writeFileSync(join(dir, 'kept.yaml'), file('kept', 1));
  writeFileSync(join(dir, 'changed.yaml'), file('changed', 1));
  writeFileSync(join(dir, 'gone.yaml'), file('gone', 1));
  const catalog = new WorkflowCatalog(Object.assign(new AppConfig(), { WORKFLOWS_DIR: dir }));

  it('says what was added, updated and removed, and serves the new definitions', () => {
    const before = catalog.fingerprint;
    expect(WorkflowCatalog.filesFingerprintOrNull(dir)).toBe(before);
    writeFileSync(join(dir, 'changed.yaml'), file('changed', 2));
    writeFileSync(join(dir, 'new.yaml'), file('new', 1));
    unlinkSync(join(dir, 'gone.yaml'));
    expect(WorkflowCatalog.filesFingerprintOrNull(dir)).not.toBe(before);
    const change = catalog.reload();
    expect(change).toMatchObject({
      changed: true,
      added: [{ task_type: 'new', version: 1 }],
      updated: [{ task_type: 'changed', from_version: 1, to_version: 2 }],
      removed: [{ task_type: 'gone', version: 1 }],
      workflows: 3,
    });
    expect(catalog.get('changed')?.version).toBe(2);
    expect(catalog.get('gone')).toBeUndefined();
    expect(catalog.fingerprint).toBe(WorkflowCatalog.filesFingerprintOrNull(dir));
  });

  it('counts a change of comments or layout as no change of definition', () => {
    writeFileSync(join(dir, 'kept.yaml'), file('kept', 1, '# only a comment\n'));
    expect(catalog.reload()).toMatchObject({ changed: false, added: [], updated: [], removed: [] });
  });

  it('refuses files with problems as a whole, naming every one, and keeps serving what it had', () => {
    writeFileSync(join(dir, 'new.yaml'), file('new', 2));
    writeFileSync(join(dir, 'broken.yaml'), 'task_type: broken\nversion: 1\ncolour: red\nsteps: []\n');
    let refused: unknown;
    try {
      catalog.reload();
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(WorkflowDefinitionError);
    expect((refused as WorkflowDefinitionError).problems.join('\n')).toContain(join(dir, 'broken.yaml'));
    expect(catalog.get('new')?.version).toBe(1);
    expect(catalog.get('broken')).toBeUndefined();
  });
});
