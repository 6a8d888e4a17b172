import { isPlainObject } from '@orchestrator/contracts';
import { expressionReads } from './expression.js';
import { runExpressionJob, type ExpressionJob, type ExpressionSettings } from './expression-jobs.js';
import { hasExpression, isExpression, isReference, type TemplateContext } from './template.js';

/**
 * What the engine asks of a plan's expressions and templates. A template without `$expr` is
 * resolved here at once (references only, and its size bounded); anything that evaluates CEL is
 * a job of `run`: in a worker thread in the service (ExpressionPool), in this thread in tests
 * (InlineExpressions). Each job gets only the data its expressions and references read.
 */
export abstract class Expressions {
  constructor(protected readonly settings: ExpressionSettings) {}

  /** Runs a job that evaluates CEL. Rejects with ExpressionError, TemplateError or an Error naming the value. */
  protected abstract run(job: ExpressionJob): Promise<unknown>;

  /** The value of a `when`. */
  async evaluate(source: string, context: TemplateContext): Promise<unknown> {
    return this.run({ kind: 'evaluate', source, context: readBy(context, [source], undefined) });
  }

  /** A template resolved: a step's input, a workflow's output. */
  async resolve(template: unknown, context: TemplateContext): Promise<unknown> {
    if (!hasExpression(template)) return runExpressionJob({ kind: 'resolve', template, context }, this.settings);
    return this.run({ kind: 'resolve', template, context: readBy(context, [], template) });
  }

  /** A `for_each` step's list, as the inputs of its items (at most `maxItems`). */
  async expand(source: string, template: unknown, context: TemplateContext, maxItems: number): Promise<Record<string, unknown>[]> {
    return (await this.run({ kind: 'expand', source, template, context: readBy(context, [source], template), maxItems })) as Record<string, unknown>[];
  }
}

/** Runs every job in this thread: for tests, and for tools that run without the service. */
export class InlineExpressions extends Expressions {
  protected run(job: ExpressionJob): Promise<unknown> {
    return new Promise((resolve) => resolve(runExpressionJob(job, this.settings)));
  }
}

/** The part of `context` that these expressions and this template read: the request's payload only if read, the steps read. */
function readBy(context: TemplateContext, sources: readonly string[], template: unknown): TemplateContext {
  let request = false;
  const steps = new Set<string>();
  const expression = (source: string): void => {
    const reads = expressionReads(source);
    request ||= reads.request;
    for (const step of reads.steps) steps.add(step);
  };
  const visit = (node: unknown): void => {
    if (isExpression(node)) expression(node.$expr);
    else if (isReference(node)) {
      const [root, step] = node.$ref.split('.');
      if (root === 'request') request = true;
      if (root === 'steps' && step !== undefined) steps.add(step);
    } else if (Array.isArray(node)) node.forEach(visit);
    else if (isPlainObject(node)) Object.values(node).forEach(visit);
  };
  sources.forEach(expression);
  visit(template);
  const { item, index } = context;
  return {
    request: request ? context.request : { ...context.request, payload: {} },
    steps: Object.fromEntries(Object.entries(context.steps).filter(([id]) => steps.has(id))),
    ...(item === undefined ? {} : { item }),
    ...(index === undefined ? {} : { index }),
  };
}
