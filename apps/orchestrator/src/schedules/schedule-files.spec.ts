import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppConfig } from '../config/app-config.js';
import { PlanningService } from '../planning/planning.service.js';
import { WorkflowCatalog } from '../planning/workflow-catalog.service.js';
import { ScheduleFiles } from './schedule-files.service.js';
import { ScheduleValidator } from './schedule-validator.js';

/** A workflows folder with one workflow, `report` (a `day` string in its payload), and these schedule files. */
function workflows(schedules: Record<string, string> | null): AppConfig {
  const dir = mkdtempSync(join(tmpdir(), 'workflows-'));
  writeFileSync(join(dir, 'report.yaml'), 'task_type: report\nversion: 1\npayload:\n  day: { type: string }\nsteps:\n  - { id: a, agent: x, task_type: w }\n');
  if (schedules !== null) {
    mkdirSync(join(dir, 'schedules'));
    for (const [name, text] of Object.entries(schedules)) writeFileSync(join(dir, 'schedules', name), text);
  }
  return Object.assign(new AppConfig(), { WORKFLOWS_DIR: dir, PLANNER_AGENT: '' });
}

function load(config: AppConfig): ScheduleFiles {
  const catalog = new WorkflowCatalog(config);
  return new ScheduleFiles(config, new ScheduleValidator(catalog, new PlanningService(catalog, config), config));
}

describe('schedule files', () => {
  it('reads one schedule per file, its id the file name, with the defaults of POST /schedules', () => {
    const files = load(workflows({ 'nightly.yaml': 'task_type: report\ncron: "0 0 2 * * *"\ntimezone: Europe/Berlin\npayload: { day: yesterday }\n', 'often.json': '{"task_type":"report","every_ms":60000,"paused":true}' }));
    expect(files.schedules.map(({ spec }) => [spec.schedule_id, spec.cron, spec.every_ms, spec.overlap, spec.paused])).toEqual([
      ['nightly', '0 0 2 * * *', null, 'skip', false],
      ['often', null, 60_000, 'skip', true],
    ]);
    expect(files.schedules[0]?.file).toBe(join(files.dir, 'nightly.yaml'));
  });

  it('holds none without a schedules folder', () => {
    expect(load(workflows(null)).schedules).toEqual([]);
  });

  it('makes the service refuse to start, naming every problem with its file and field', () => {
    const config = workflows({
      'a.yaml': 'task_type: report\nevery_ms: 10\n',
      'b.yaml': 'schedule_id: other\ntask_type: report\nevery_ms: 60000\n',
      'c.yaml': 'task_type: nope\ncron: "61 * * * *"\n',
      'd.yaml': 'task_type: report\nevery_ms: 60000\npayload: { day: 3 }\n',
      'e.yaml': 'task_type: report\nevery_ms: 60000\nevery_ms: 1000\n',
    });
    const dir = join(config.WORKFLOWS_DIR, 'schedules');
    expect(() => load(config)).toThrow(
      [
        'invalid schedule files:',
        `${join(dir, 'a.yaml')}: every_ms: must be a whole number of milliseconds from 1000 to 31536000000`,
        `${join(dir, 'b.yaml')}: schedule_id: "other" is not the file's name ("b")`,
        `${join(dir, 'c.yaml')}: cron: "61 * * * *" is not a cron expression: Invalid value for minute: 61`,
        `${join(dir, 'c.yaml')}: task_type: no workflow is defined for "nope"`,
        `${join(dir, 'd.yaml')}: payload.day: must be a string`,
        `${join(dir, 'e.yaml')}: cannot be parsed: Map keys must be unique`,
      ].join('\n  '),
    );
  });
});
