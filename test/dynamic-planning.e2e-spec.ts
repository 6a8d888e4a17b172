import { Agent } from '@orchestrator/agent-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

const cycle = { steps: [{ id: 'a', agent: 'llm_agent', task_type: 'generate_content', depends_on: ['b'] }, { id: 'b', agent: 'llm_agent', task_type: 'generate_content', depends_on: ['a'] }] };
const HOSTILE: [string, unknown, string][] = [
  ['a cycle', cycle, 'depends_on forms a cycle: a -> b -> a'],
  ['10,000 steps', { steps: Array.from({ length: 10_000 }, (_, i) => ({ id: `s${i}`, agent: 'llm_agent', task_type: 'generate_content' })) }, 'has 10000 steps; at most 50 are allowed'],
  ['an unknown capability', { steps: [{ id: 'a', capability: 'teleport' }] }, 'step a: no live agent offers "teleport"'],
  ['an agent name aiming at other subjects', { steps: [{ id: 'a', agent: 'a.>', task_type: 'generate_content' }] }, 'agent "a.>" is not an agent name'],
  ['a reference to a missing step', { steps: [{ id: 'a', agent: 'llm_agent', task_type: 'generate_content', input: { $ref: 'steps.ghost.result' } }] }, '$ref steps.ghost.result: no step "ghost"'],
  ['no plan at all', 'just do it', 'plan: must be an object with steps'],
  ['a NUL character', { steps: [{ id: 'a', agent: 'llm_agent', task_type: 'generate_content', input: { text: 'a\u0000b' } }] }, 'plan.steps[0].input.text: contains a NUL character (\\u0000)'],
  [
    'more than PLAN_MAX_BYTES of JSON',
    { steps: [{ id: 'a', agent: 'llm_agent', task_type: 'generate_content', input: { text: 'x'.repeat(300_000) } }] },
    'plan: is more than 262,144 bytes of JSON; at most that many are allowed (PLAN_MAX_BYTES)',
  ],
];

describe('plans built at run time', () => {
  const stack = useTestStack({ demoAgents: true, agentsFirst: true, waitForAgents: 5 });

  describe('with the demo planner (llm_agent, plan_task)', () => {
    afterAll(async () => {
      await stack.orchestrator.stop();
    });

    it('plans research_report (no workflow file), runs the sub-topics in parallel and merges them', async () => {
      const response = await stack.submit({ task_id: 'research-1', task_type: 'research_report', payload: { topic: 'Event sourcing' } });
      expect(response).toMatchObject({ task_id: 'research-1', status: 'COMPLETED' });
      const output = (response['result'] as { output: { title: string; content: string; sections: number } }).output;
      expect(output.title).toBe('Research report: Event sourcing');
      expect(output.sections).toBe(3);
      for (const part of ['Background', 'Current state', 'Open questions']) expect(output.content).toContain(`Event sourcing: ${part}`);
      const view = await stack.get<{
        plan: { task_type: string; steps: { id: string; depends_on: string[]; capability: string | null }[] };
        steps: { step: string; agent: string; status: string }[];
      }>('/tasks/research-1');
      expect(view.plan.task_type).toBe('research_report');
      expect(view.plan.steps.map((s) => s.id)).toEqual(['part_1', 'part_2', 'part_3', 'merge']);
      expect(view.plan.steps[3]).toMatchObject({ capability: 'merge_sections', depends_on: ['part_1', 'part_2', 'part_3'] });
      expect(view.steps.find((s) => s.step === 'merge')).toMatchObject({ agent: 'drafting_agent', status: 'COMPLETED' });
    });

    it('fails a task type nobody can plan, storing nothing', async () => {
      const response = await stack.submit({ task_id: 'unplannable-1', task_type: 'compose_symphony' });
      expect(response).toMatchObject({
        status: 'FAILED',
        error: 'task_type: no workflow is defined for "compose_symphony", and the planner llm_agent could not plan it: llm_agent has no plan for task_type compose_symphony',
      });
      expect(await stack.db.query(`SELECT id FROM tasks WHERE task_id = 'unplannable-1'`)).toHaveLength(0);
    });
  });

  describe('with a planner that answers hostile plans', () => {
    const asked: Record<string, unknown>[] = [];

    beforeAll(async () => {
      const planner = new Agent({ name: 'e2e_planner', agentType: 'test', natsUrl: testEnv().natsUrl });
      planner.handle('plan_task', (payload) => {
        asked.push(payload);
        const request = payload['request'] as { payload: { kind: number } };
        return Promise.resolve({ plan: HOSTILE[request.payload.kind]?.[1] });
      });
      await stack.startAgents(planner);
      await stack.restart({ env: { PLANNER_AGENT: 'e2e_planner', PLAN_MAX_STEPS: '50' } });
      await stack.waitForAgents(6);
    });

    it.each(HOSTILE.map(([name, , message], kind) => [name, kind, message] as const))(
      'refuses a plan with %s, asking once more with the errors, dispatching nothing',
      async (_name, kind, message) => {
        const before = asked.length;
        const taskId = `hostile-${kind}`;
        const response = await stack.submit({ task_id: taskId, task_type: 'anything_goes', payload: { kind } });
        expect(response).toMatchObject({ task_id: taskId, status: 'FAILED' });
        expect(response['error']).toMatch(/^plan: the planner's plan is invalid: /);
        expect(response['error']).toContain(message);
        expect(asked.length - before).toBe(2);
        expect(asked[asked.length - 1]?.['previous_errors']).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
        expect(await stack.db.query(`SELECT id FROM tasks WHERE task_id = $1`, [taskId])).toHaveLength(0);
      },
    );
  });
});
