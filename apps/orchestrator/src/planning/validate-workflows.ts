/**
 * `npm run workflows:validate [dir]`: checks workflow definition files, and the schedule files of
 * their `schedules` folder, without starting the service; prints every problem with its file, step
 * and reason, and exits 1 when there is one. Workflows may nest MAX_WORKFLOW_DEPTH deep, and the
 * other limits are those of the environment, validated as the service does.
 */
import 'reflect-metadata';
import { join, resolve } from 'node:path';
import { validateSetting } from '../config/app-config.js';
import { loadScheduleFiles, ScheduleFileError } from '../schedules/schedule-files.js';
import { WorkflowDefinitionError } from './planning.errors.js';
import { WorkflowCatalog } from './workflow-catalog.service.js';

const dir = resolve(process.argv[2] ?? 'workflows');
try {
  const definitions = WorkflowCatalog.loadDirectory(dir, validateSetting(process.env, 'MAX_WORKFLOW_DEPTH'));
  for (const d of definitions) console.log(`ok  ${d.source}: ${d.task_type} version ${d.version}, ${d.dynamic ? 'planned at run time' : `${d.steps.length} steps`}`);
  const byType = new Map(definitions.map((d) => [d.task_type, d]));
  const schedules = loadScheduleFiles(join(dir, 'schedules'), {
    workflow: (taskType) => byType.get(taskType),
    planner: validateSetting(process.env, 'PLANNER_AGENT') !== '',
    maxJsonDepth: validateSetting(process.env, 'MAX_JSON_DEPTH'),
    maxMessageBytes: validateSetting(process.env, 'MAX_MESSAGE_BYTES'),
  });
  for (const s of schedules) console.log(`ok  ${s.file}: schedule ${s.spec.schedule_id} of ${s.spec.task_type}`);
  console.log(`${definitions.length} workflow(s) and ${schedules.length} schedule(s) in ${dir}: no problems`);
} catch (error) {
  if (!(error instanceof WorkflowDefinitionError) && !(error instanceof ScheduleFileError)) throw error;
  for (const problem of error.problems) console.error(`error  ${problem}`);
  console.error(`${error.problems.length} problem(s) in ${dir}`);
  process.exitCode = 1;
}
