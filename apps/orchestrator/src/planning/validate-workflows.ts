/**
 * `npm run workflows:validate [dir]`: checks workflow definition files without starting the
 * service; prints every problem with its file, step and reason, and exits 1 when there is one.
 * Workflows may nest MAX_WORKFLOW_DEPTH deep (from the environment, validated as the service does).
 */
import 'reflect-metadata';
import { resolve } from 'node:path';
import { validateSetting } from '../config/app-config.js';
import { WorkflowDefinitionError } from './planning.errors.js';
import { WorkflowCatalog } from './workflow-catalog.service.js';

const dir = resolve(process.argv[2] ?? 'workflows');
try {
  const definitions = WorkflowCatalog.loadDirectory(dir, validateSetting(process.env, 'MAX_WORKFLOW_DEPTH'));
  for (const d of definitions) console.log(`ok  ${d.source}: ${d.task_type} version ${d.version}, ${d.dynamic ? 'planned at run time' : `${d.steps.length} steps`}`);
  console.log(`${definitions.length} workflow(s) in ${dir}: no problems`);
} catch (error) {
  if (!(error instanceof WorkflowDefinitionError)) throw error;
  for (const problem of error.problems) console.error(`error  ${problem}`);
  console.error(`${error.problems.length} problem(s) in ${dir}`);
  process.exitCode = 1;
}
