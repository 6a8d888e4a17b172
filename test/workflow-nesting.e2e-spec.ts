import { describe, expect, it } from 'vitest';
import { cyclicWorkflowProblems, cyclicWorkflows } from './support/cyclic-workflows.js';
import { AppExitedError, AppProcess, startOrchestrator } from './support/orchestrator-process.js';

describe('an orchestrator whose workflows run themselves or each other', () => {
  it('refuses to start, naming each cycle with its files and steps', async () => {
    const dir = cyclicWorkflows();
    const started = await startOrchestrator({ workflowsDir: dir }).then(
      (app) => app,
      (error: unknown) => error,
    );
    if (started instanceof AppProcess) await started.stop();
    expect(started).toBeInstanceOf(AppExitedError);
    const { app } = started as AppExitedError;
    expect(app.child.exitCode).toBe(1);
    const output = await app.output();
    expect(output).toContain('invalid workflow definitions');
    for (const problem of cyclicWorkflowProblems(dir)) expect(output).toContain(problem);
  });
});
