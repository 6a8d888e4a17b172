import { Injectable } from '@nestjs/common';
import { addUsage, ORCHESTRATOR_AGENT_NAME, USAGE_FIELDS, usageTokens, type Budget, type Usage } from '@orchestrator/contracts';
import { AppConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { RootRow, TaskRow } from '../persistence/task-rows.js';
import type { Workflow } from './workflow.js';

const amount = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 4 });

/** `budget exceeded: 201,340 tokens of 200,000` (or cost), or null while the workflow is within its budget. */
export function budgetExceeded(budget: Budget | null, usage: Usage | null): string | null {
  if (!budget || !usage) return null;
  const tokens = usageTokens(usage);
  if (budget.max_tokens !== undefined && tokens > budget.max_tokens) return `budget exceeded: ${amount(tokens)} tokens of ${amount(budget.max_tokens)}`;
  const cost = usage.cost ?? 0;
  if (budget.max_cost !== undefined && cost > budget.max_cost) return `budget exceeded: ${amount(cost)} cost of ${amount(budget.max_cost)}`;
  return null;
}

/** What a workflow may still spend, for a child workflow it starts (its `budget`); undefined without a budget. */
export function budgetLeft(root: RootRow): Budget | undefined {
  const { budget, usage } = root;
  if (!budget) return undefined;
  const left: Budget = {};
  if (budget.max_tokens !== undefined) left.max_tokens = Math.max(0, budget.max_tokens - (usage ? usageTokens(usage) : 0));
  if (budget.max_cost !== undefined) left.max_cost = Math.max(0, budget.max_cost - (usage?.cost ?? 0));
  return left;
}

/**
 * What answers cost: an answer's `usage` is added to its row (over its attempts) and to its
 * workflow's root (a `workflow:` step's is its child's total), counted in the metrics by agent (the
 * agents that did the work) and by requester (of workflows requested from outside, child workflows
 * within them), and checked against the workflow's budget.
 */
@Injectable()
export class UsageLedger {
  private readonly requesters = new Set<string>();

  constructor(
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  record(wf: Workflow, row: TaskRow, usage: Usage | undefined): void {
    if (!usage) return;
    wf.patch(row, { usage: addUsage(row.usage, usage) });
    wf.patch(wf.root, { usage: addUsage(wf.root.usage, usage) });
    const counted = addUsage(usage, null) ?? {};
    for (const kind of USAGE_FIELDS) {
      const value = counted[kind];
      if (value === undefined || value === 0) continue;
      if (row.agent_name && row.agent_name !== ORCHESTRATOR_AGENT_NAME) this.metrics.agentUsage.inc({ agent: row.agent_name, kind }, value);
      if (wf.root.depth === 1) this.metrics.requesterUsage.inc({ requester: this.requesterLabel(wf.root.requester_id), kind }, value);
    }
  }

  /** The budget message when the workflow has spent past its budget. */
  exceeded(wf: Workflow): string | null {
    return budgetExceeded(wf.root.budget, wf.root.usage);
  }

  /** A requester's own series while there are fewer than USAGE_METRIC_REQUESTERS_MAX, else "other". */
  private requesterLabel(requester: string | null): string {
    const name = requester ?? 'none';
    if (this.requesters.has(name)) return name;
    if (this.requesters.size >= this.config.USAGE_METRIC_REQUESTERS_MAX) return 'other';
    this.requesters.add(name);
    return name;
  }
}
