import { Injectable, Logger } from '@nestjs/common';
import { agentTaskSubject, isPlainObject, ORCHESTRATOR_AGENT_NAME, parseTaskResponse, TaskStatus, type TaskRequest } from '@orchestrator/contracts';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config.js';
import { AgentRegistryService } from '../registry/agent-registry.service.js';
import { MessagePublisher } from '../transport/message-publisher.js';
import { walkGraph } from './graph.js';
import type { Plan } from './plan.js';
import { PlanningError } from './planning.errors.js';
import { WorkflowCatalog } from './workflow-catalog.service.js';
import { parseWorkflowDefinition, type WorkflowDefinition } from './workflow-definition.js';
import { checkWorkflowCalls } from './workflow-graph.js';
import { subtaskCount } from './policies.js';

const decoder = new TextDecoder();

/** What the planner is told when asked to revise a plan. */
export interface RevisionRequest {
  /** The number the revised plan will have (the first plan is 1). */
  revision: number;
  plan: Plan;
  /** The results of the steps that finished, by step id. */
  completed: Record<string, unknown>;
  failed: { step: string; agent: string | null; error: string };
}

/**
 * Plans a task no workflow file describes by asking a planner agent (PLANNER_AGENT, task type
 * PLANNER_TASK_TYPE) with the request and the capabilities live agents offer. Its `result.plan`
 * is a workflow in the files' format and is validated as strictly as a file, plus: every agent and
 * capability must be known, every `workflow:` step must name a workflow file, and the plan must stay
 * within PLAN_MAX_STEPS, PLAN_MAX_DEPTH and MAX_WORKFLOW_DEPTH. An invalid plan is asked again with
 * its errors, PLANNER_RETRIES times.
 */
@Injectable()
export class DynamicPlanner {
  private readonly logger = new Logger(DynamicPlanner.name);

  constructor(
    private readonly config: AppConfig,
    private readonly publisher: MessagePublisher,
    private readonly registry: AgentRegistryService,
    private readonly catalog: WorkflowCatalog,
  ) {}

  plan(request: TaskRequest): Promise<WorkflowDefinition> {
    return this.obtain(request, {}, new Set(), undefined);
  }

  /**
   * Asks for a revised plan of the work left after a step failed for good: the planner gets the
   * plan that ran, the finished steps' results and the failure, and answers with the steps still to
   * run, which may depend on the finished ones and read their results. Without an `output` of its
   * own, the revision keeps the plan's, which must then still resolve.
   */
  revise(request: TaskRequest, revision: RevisionRequest): Promise<WorkflowDefinition> {
    const question = {
      revise: {
        revision: revision.revision,
        plan: revision.plan,
        completed: revision.completed,
        failed: revision.failed,
      },
    };
    return this.obtain(request, question, new Set(Object.keys(revision.completed)), revision.plan.output ?? undefined);
  }

  private async obtain(request: TaskRequest, question: Record<string, unknown>, done: ReadonlySet<string>, output: unknown): Promise<WorkflowDefinition> {
    const agents = await this.registry.live().catch(() => []);
    const capabilities: Record<string, string[]> = Object.fromEntries(agents.map((agent) => [agent.name, agent.capabilities]));
    let problems: string[] = [];
    for (let attempt = 0; attempt <= this.config.PLANNER_RETRIES; attempt++) {
      let raw = await this.ask(request, capabilities, problems, question);
      if (output !== undefined && isPlainObject(raw) && raw['output'] === undefined) raw = { ...raw, output };
      problems = this.check(raw, request.task_type, capabilities, done);
      if (problems.length === 0) {
        const parsed = parseWorkflowDefinition({ version: 1, ...(raw as object), task_type: request.task_type }, this.source, undefined, done);
        if (parsed.definition) return parsed.definition;
      }
      this.logger.warn(`plan for ${request.task_id} refused (${problems.length} problems)${attempt < this.config.PLANNER_RETRIES ? ', asking again' : ''}`);
    }
    throw new PlanningError('INVALID_PLAN', `plan: the planner's plan is invalid: ${problems.slice(0, 20).join('; ')}`);
  }

  private get source(): string {
    return `plan from ${this.config.PLANNER_AGENT}`;
  }

  /** Every problem of a plan: the file rules, then agents and capabilities, size, depth, and the workflows it runs. */
  check(raw: unknown, taskType: string, capabilities: Readonly<Record<string, string[]>>, done: ReadonlySet<string> = new Set()): string[] {
    if (!isPlainObject(raw)) return ['plan: must be an object with steps'];
    const steps = raw['steps'];
    if (Array.isArray(steps) && steps.length > this.config.PLAN_MAX_STEPS) {
      return [`plan: has ${steps.length} steps; at most ${this.config.PLAN_MAX_STEPS} are allowed`];
    }
    const parsed = parseWorkflowDefinition({ version: 1, ...raw, task_type: taskType }, this.source, undefined, done);
    if (!parsed.definition) return parsed.problems;
    const problems: string[] = [];
    const offered = new Set(Object.values(capabilities).flat());
    for (const step of parsed.definition.steps) {
      // A step that runs a workflow goes to the orchestrator itself, not to a live agent.
      if (step.workflow === undefined && step.agent !== null && !(step.agent in capabilities)) {
        problems.push(`${this.source}: step ${step.id}: no live agent is named "${step.agent}"`);
      }
      if (step.capability !== null && !offered.has(step.capability)) problems.push(`${this.source}: step ${step.id}: no live agent offers "${step.capability}"`);
    }
    const depth = longestChain(parsed.definition);
    if (depth > this.config.PLAN_MAX_DEPTH) problems.push(`${this.source}: ${depth} steps deep; at most ${this.config.PLAN_MAX_DEPTH} are allowed`);
    const { defaults } = parsed.definition;
    const subtasks = subtaskCount(parsed.definition.steps.map((step) => ({ items: 1, max_attempts: step.max_attempts ?? defaults.max_attempts ?? this.config.DEFAULT_MAX_ATTEMPTS })));
    if (subtasks > this.config.PLAN_MAX_SUBTASKS) {
      problems.push(`${this.source}: sends up to ${subtasks} sub-tasks (steps × attempts); at most ${this.config.PLAN_MAX_SUBTASKS} are allowed (PLAN_MAX_SUBTASKS)`);
    }
    // Checked as a plan started by a request from outside; the engine checks a nested one at its own depth.
    for (const problem of checkWorkflowCalls(parsed.definition.steps, 1, this.catalog, this.config.MAX_WORKFLOW_DEPTH)) problems.push(`${this.source}: ${problem}`);
    return problems;
  }

  private async ask(
    request: TaskRequest,
    capabilities: Record<string, string[]>,
    previousProblems: string[],
    extra: Record<string, unknown>,
  ): Promise<unknown> {
    const question: TaskRequest = {
      task_id: `plan-${randomUUID()}`,
      task_type: this.config.PLANNER_TASK_TYPE,
      payload: {
        request: { task_id: request.task_id, task_type: request.task_type, payload: request.payload },
        capabilities,
        limits: { max_steps: this.config.PLAN_MAX_STEPS, max_depth: this.config.PLAN_MAX_DEPTH, max_subtasks: this.config.PLAN_MAX_SUBTASKS },
        ...extra,
        ...(previousProblems.length > 0 ? { previous_errors: previousProblems } : {}),
      },
      priority: request.priority,
      requester_id: ORCHESTRATOR_AGENT_NAME,
    };
    let text: string;
    try {
      text = decoder.decode(await this.publisher.request(agentTaskSubject(this.config.PLANNER_AGENT), question, this.config.PLANNER_TIMEOUT_MS));
    } catch (error) {
      throw new PlanningError('PLANNER_UNAVAILABLE', `task_type: no workflow is defined for "${request.task_type}" and the planner ${this.config.PLANNER_AGENT} did not answer (${(error as Error).message})`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new PlanningError('INVALID_PLAN', `plan: the planner ${this.config.PLANNER_AGENT} answered with something that is not JSON`);
    }
    const response = parseTaskResponse(body);
    if (!response.ok) throw new PlanningError('INVALID_PLAN', `plan: the planner's answer is not a TaskResponse (${response.error})`);
    if (response.value.status !== TaskStatus.Completed) {
      throw new PlanningError('INVALID_PLAN', `plan: the planner could not plan "${request.task_type}": ${response.value.error ?? response.value.status}`);
    }
    return response.value.result?.['plan'];
  }
}

/** The number of steps on the longest chain of dependencies (the definition is known to be acyclic). */
function longestChain(definition: WorkflowDefinition): number {
  const byId = new Map(definition.steps.map((step) => [step.id, step]));
  const { longest } = walkGraph(byId.keys(), (id) => byId.get(id)?.depends_on ?? []);
  return Math.max(0, ...[...longest.values()].map((path) => path.length));
}
