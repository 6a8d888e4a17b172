import { Injectable, Optional } from '@nestjs/common';
import type { TaskRequest } from '@orchestrator/contracts';
import { AppConfig } from '../config/app-config.js';
import { DynamicPlanner, type RevisionRequest } from './dynamic-planner.service.js';
import type { Plan } from './plan.js';
import { PlanningError } from './planning.errors.js';
import { concurrencyKeyOf, storedConcurrencyKey } from './policies.js';
import { WorkflowCatalog } from './workflow-catalog.service.js';
import { checkWorkflowCalls } from './workflow-graph.js';
import { LIMITS, type PayloadField, type WorkflowDefinition } from './workflow-definition.js';

export const DEFAULT_BACKOFF = { initial_ms: 500, max_ms: 30_000 } as const;

/** Turns a request into the plan its workflow will run, checking the payload the workflow declares. */
@Injectable()
export class PlanningService {
  private readonly snapshots = new WeakMap<WorkflowDefinition, { settings: string; plan: Plan }>();

  constructor(
    private readonly catalog: WorkflowCatalog,
    private readonly config: AppConfig,
    @Optional() private readonly planner?: DynamicPlanner,
  ) {}

  /** True when a task of this type is planned at run time: no workflow file describes it, or its file says `plan: dynamic`. */
  isDynamic(taskType: string): boolean {
    const definition = this.catalog.get(taskType);
    return (!definition || definition.dynamic === true) && this.hasPlanner();
  }

  /**
   * The plan of a request: its workflow file's, or the planner agent's for a task type without a
   * file or with `plan: dynamic`. Throws PlanningError for an unknown task_type, a payload the
   * workflow refuses, or a plan refused.
   */
  async plan(request: TaskRequest, depth = 1): Promise<Plan> {
    return this.nested(await this.planAtTop(request), depth);
  }

  private async planAtTop(request: TaskRequest): Promise<Plan> {
    const file = this.catalog.get(request.task_type);
    if (!this.isDynamic(request.task_type) || !this.planner) return this.planFromDefinition(request);
    if (!file) return this.bounded(this.snapshot(await this.planner.plan(request)));
    // The file's payload is checked before the planner is asked; its policies bound the plan.
    const problems = checkPayload(file.payload, request.payload);
    if (problems.length > 0) throw new PlanningError('INVALID_PAYLOAD', problems.join('; '));
    const planned = await this.planner.plan(request);
    return this.bounded(this.snapshot({
      ...planned,
      version: file.version,
      defaults: { ...file.defaults, ...planned.defaults },
      ...(file.timeout_ms === undefined ? {} : { timeout_ms: file.timeout_ms }),
      ...(file.replan === undefined ? {} : { replan: file.replan }),
      ...(file.fairness === undefined ? {} : { fairness: file.fairness }),
      ...(file.concurrency === undefined ? {} : { concurrency: file.concurrency }),
      ...(file.budget === undefined ? {} : { budget: file.budget }),
    }));
  }

  /** A plan from the planner agent: the default budget (when its file sets none) and the bound on its sub-tasks. */
  private bounded(plan: Plan): Plan {
    const { PLAN_DEFAULT_MAX_TOKENS, PLAN_DEFAULT_MAX_COST, PLAN_MAX_SUBTASKS } = this.config;
    const budget = {
      ...(PLAN_DEFAULT_MAX_TOKENS > 0 ? { max_tokens: PLAN_DEFAULT_MAX_TOKENS } : {}),
      ...(PLAN_DEFAULT_MAX_COST > 0 ? { max_cost: PLAN_DEFAULT_MAX_COST } : {}),
    };
    return { ...plan, ...(plan.budget || Object.keys(budget).length === 0 ? {} : { budget }), max_subtasks: PLAN_MAX_SUBTASKS };
  }

  /**
   * The key a run of this plan counts under (`<task_type>/<key>`), or null when its workflow has no
   * `concurrency`. Throws PlanningError when the key expression cannot be evaluated on the request.
   */
  concurrencyKey(plan: Plan, request: TaskRequest): string | null {
    if (!plan.concurrency) return null;
    try {
      return storedConcurrencyKey(request.task_type, concurrencyKeyOf(plan.concurrency, request));
    } catch (error) {
      throw new PlanningError('INVALID_PAYLOAD', `concurrency.key: ${(error as Error).message}`);
    }
  }

  /** True when a planner agent is configured: to plan at run time, and to revise plans. */
  hasPlanner(): boolean {
    return this.config.PLANNER_AGENT !== '' && this.planner !== undefined;
  }

  /** How long one replica may take to get a revision before another may try: every attempt at the planner, and a margin. */
  revisionLeaseMs(): number {
    return this.config.PLANNER_TIMEOUT_MS * (this.config.PLANNER_RETRIES + 1) + 5_000;
  }

  /** The planner's revised plan of the work left (its steps only; the engine keeps the finished ones). Throws PlanningError. */
  async revise(request: TaskRequest, revision: RevisionRequest, depth = 1): Promise<Plan> {
    if (!this.hasPlanner() || !this.planner) throw new PlanningError('PLANNER_UNAVAILABLE', 'no planner agent is configured (PLANNER_AGENT)');
    return this.nested(this.bounded(this.snapshot(await this.planner.revise(request, revision))), depth);
  }

  /**
   * A plan that runs at `depth` (1 for a request from outside, more inside a `workflow:` step):
   * refused when the workflows it runs would nest deeper than MAX_WORKFLOW_DEPTH, or are unknown.
   */
  private nested(plan: Plan, depth: number): Plan {
    const problems = checkWorkflowCalls(plan.steps, depth, this.catalog, this.config.MAX_WORKFLOW_DEPTH);
    if (problems.length > 0) throw new PlanningError('INVALID_PLAN', `workflow ${plan.task_type}: ${problems.join('; ')}`);
    return plan;
  }

  /** Plans from the workflow files only. */
  planFromDefinition(request: TaskRequest): Plan {
    const definition = this.catalog.get(request.task_type);
    if (!definition) {
      throw new PlanningError('UNKNOWN_TASK_TYPE', `task_type: no workflow is defined for "${request.task_type}"`);
    }
    if (definition.dynamic) {
      throw new PlanningError('PLANNER_UNAVAILABLE', `task_type: "${request.task_type}" is planned at run time and no planner agent is configured (PLANNER_AGENT)`);
    }
    const problems = checkPayload(definition.payload, request.payload);
    if (problems.length > 0) throw new PlanningError('INVALID_PAYLOAD', problems.join('; '));
    return this.fileSnapshot(definition);
  }

  /**
   * A file's plan, made once per definition and settings and shared by the workflows that run it;
   * frozen, since a change to one workflow's plan must reach no other (a revision is a new plan).
   */
  private fileSnapshot(definition: WorkflowDefinition): Plan {
    const settings = `${this.config.DEFAULT_STEP_TIMEOUT_MS}/${this.config.DEFAULT_MAX_ATTEMPTS}`;
    const known = this.snapshots.get(definition);
    if (known?.settings === settings) return known.plan;
    const plan = deepFreeze(this.snapshot(definition));
    this.snapshots.set(definition, { settings, plan });
    return plan;
  }

  /** The definition with every default resolved; shares nothing with the catalog, so a stored plan cannot change it. */
  snapshot(definition: WorkflowDefinition): Plan {
    const defaults = definition.defaults;
    return {
      task_type: definition.task_type,
      version: definition.version,
      timeout_ms: definition.timeout_ms ?? null,
      revision: 1,
      replan: definition.replan ? { ...definition.replan } : null,
      fairness_key: definition.fairness?.key ?? null,
      ...(definition.concurrency ? { concurrency: { ...definition.concurrency } } : {}),
      ...(definition.budget ? { budget: { ...definition.budget } } : {}),
      output: definition.output === undefined ? null : structuredClone(definition.output),
      steps: definition.steps.map((step) => ({
        id: step.id,
        agent: step.agent,
        capability: step.capability,
        task_type: step.task_type,
        ...(step.workflow === undefined ? {} : { workflow: step.workflow }),
        depends_on: [...step.depends_on],
        input: structuredClone(step.input),
        timeout_ms: step.timeout_ms ?? defaults.timeout_ms ?? this.config.DEFAULT_STEP_TIMEOUT_MS,
        // A step that waits is never sent: it has no attempts to retry.
        max_attempts: step.wait_for || step.sleep ? 1 : (step.max_attempts ?? defaults.max_attempts ?? this.config.DEFAULT_MAX_ATTEMPTS),
        backoff: { ...(step.backoff ?? defaults.backoff ?? DEFAULT_BACKOFF) },
        fallbacks: [...step.fallbacks],
        optional: step.optional,
        ...(step.when === undefined ? {} : { when: step.when }),
        ...(step.for_each === undefined ? {} : { for_each: step.for_each, concurrency: step.concurrency ?? LIMITS.concurrency.default }),
        ...(step.rate_limit === undefined ? {} : { rate_limit: { ...step.rate_limit } }),
        ...(step.wait_for === undefined ? {} : { wait_for: structuredClone(step.wait_for) }),
        ...(step.sleep === undefined ? {} : { sleep: { ...step.sleep } }),
      })),
    };
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value;
}

/** Checks the declared fields only; agents may use fields the workflow does not declare. */
export function checkPayload(fields: Record<string, PayloadField>, payload: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [name, field] of Object.entries(fields)) {
    const value = payload[name];
    const where = `payload.${name}`;
    if (value === undefined || value === null) {
      if (field.required) problems.push(`${where}: is required`);
      continue;
    }
    const actual = typeOf(value);
    const matches = field.type === 'integer' ? Number.isInteger(value) : actual === field.type;
    if (!matches) {
      problems.push(`${where}: must be ${field.type === 'integer' || field.type === 'array' || field.type === 'object' ? 'an' : 'a'} ${field.type}`);
      continue;
    }
    if (field.max_length !== undefined && (typeof value === 'string' || Array.isArray(value)) && value.length > field.max_length) {
      problems.push(`${where}: must be at most ${field.max_length} ${typeof value === 'string' ? 'characters' : 'items'}`);
    }
    if (field.type === 'string' && field.required && typeof value === 'string' && value.trim() === '') {
      problems.push(`${where}: must not be empty`);
    }
  }
  return problems;
}
