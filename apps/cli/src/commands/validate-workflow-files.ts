export interface WorkflowFileReport {
  file: string;
  task_type: string;
  version: number;
  plan: 'fixed' | 'dynamic';
  steps: number;
}

export interface ValidationReport {
  dir: string;
  workflows: WorkflowFileReport[];
  problems: string[];
}

/**
 * Checks the workflow files of `dir` as the orchestrator does at start (the same code, loaded only
 * for this command), with MAX_WORKFLOW_DEPTH from the environment: every problem of every file.
 */
export async function validateWorkflowFiles(dir: string, env: Record<string, string | undefined>): Promise<ValidationReport> {
  await import('reflect-metadata');
  const { WorkflowCatalog } = await import('../../../orchestrator/dist/planning/workflow-catalog.service.js');
  const { WorkflowDefinitionError } = await import('../../../orchestrator/dist/planning/planning.errors.js');
  const { validateSetting } = await import('../../../orchestrator/dist/config/app-config.js');
  try {
    const definitions = WorkflowCatalog.loadDirectory(dir, validateSetting(env, 'MAX_WORKFLOW_DEPTH'));
    return {
      dir,
      workflows: definitions.map((d) => ({ file: d.source, task_type: d.task_type, version: d.version, plan: d.dynamic ? 'dynamic' : 'fixed', steps: d.steps.length })),
      problems: [],
    };
  } catch (error) {
    if (!(error instanceof WorkflowDefinitionError)) throw error;
    return { dir, workflows: [], problems: error.problems };
  }
}
