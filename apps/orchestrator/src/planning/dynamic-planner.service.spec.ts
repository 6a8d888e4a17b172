import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppConfig } from '../config/app-config.js';
import type { AgentRegistryService } from '../registry/agent-registry.service.js';
import type { MessagePublisher } from '../transport/message-publisher.js';
import { DynamicPlanner } from './dynamic-planner.service.js';
import { WorkflowCatalog } from './workflow-catalog.service.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, '../../../../test/fixtures/workflows');

/** The planner's checks only: they need no NATS and no registry. */
function planner(maxWorkflowDepth: number): DynamicPlanner {
  const config = Object.assign(new AppConfig(), { WORKFLOWS_DIR: FIXTURES, PLANNER_AGENT: 'planner', MAX_WORKFLOW_DEPTH: maxWorkflowDepth });
  return new DynamicPlanner(config, {} as MessagePublisher, {} as AgentRegistryService, new WorkflowCatalog(config));
}

const live = { worker: ['work'] };
const plan = (...steps: Record<string, unknown>[]) => ({ steps });

describe('DynamicPlanner.check: steps that run workflows', () => {
  it('accepts a step running a loaded workflow, which goes to the orchestrator rather than a live agent', () => {
    expect(planner(5).check(plan({ id: 'inner', workflow: 'e2e_nested' }, { id: 'after', agent: 'worker', task_type: 'work', depends_on: ['inner'] }), 'research', live)).toEqual([]);
  });

  it('refuses a step running a workflow that has no file', () => {
    expect(planner(5).check(plan({ id: 'inner', workflow: 'ghost' }), 'research', live)).toEqual([
      'plan from planner: step inner: workflow "ghost" is not defined (no workflow file has that task_type)',
    ]);
  });

  it('refuses a plan whose workflows would nest deeper than MAX_WORKFLOW_DEPTH from a request', () => {
    expect(planner(3).check(plan({ id: 'inner', workflow: 'e2e_nested' }), 'research', live)).toEqual([]);
    expect(planner(2).check(plan({ id: 'inner', workflow: 'e2e_nested' }, { id: 'flat', workflow: 'e2e_pair' }), 'research', live)).toEqual([
      'plan from planner: step inner: workflow "e2e_nested" nests 2 deep (e2e_nested -> e2e_pair): 3 deep in all from this plan at depth 1; at most 2 are allowed (MAX_WORKFLOW_DEPTH)',
    ]);
  });

  it('still refuses an agent that is not live', () => {
    expect(planner(5).check(plan({ id: 'a', agent: 'nobody', task_type: 'work' }), 'research', live)).toEqual([
      'plan from planner: step a: no live agent is named "nobody"',
    ]);
  });
});
