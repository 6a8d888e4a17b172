import type { ParseResult } from '@marcbachmann/cel-js';
import { ExpressionError } from './expression-error.js';

/** What one evaluation may do: CEL terminates, but may build much or take long before it does. */
export interface ExpressionBudget {
  /** Evaluation steps (one per node of the expression evaluated, comprehension bodies once per item). */
  maxSteps: number;
  /** Characters of any one string, and bytes in all, that it builds (strings by length, lists and maps by entries). */
  maxBytes: number;
  /** Entries of any one list or map it builds. */
  maxItems: number;
}

/** Nodes whose value is made by the evaluation: what they give is counted as built. */
const BUILDS = new Set(['+', '*', 'call', 'rcall', 'list', 'map', 'comprehension']);
/** What an entry of a list or a map is counted as, besides what it holds. */
const ENTRY_BYTES = 8;

const format = (n: number): string => n.toLocaleString('en-US');

/**
 * Counts one evaluation while it runs: every node evaluated is a step, and what the building nodes
 * give (a concatenation, a function's result, a list, a map, a comprehension's result) is measured
 * as soon as it is made. The first limit passed stops the evaluation with an error naming it, so a
 * string that doubles at every level, or a comprehension nested over a long list, stops at the
 * limit instead of at the end of the machine's memory.
 */
export class ExpressionMeter {
  private steps = 0;
  private bytes = 0;

  constructor(private readonly budget: ExpressionBudget) {}

  step(): void {
    this.steps += 1;
    if (this.steps > this.budget.maxSteps) {
      throw new ExpressionError('EXPRESSION_TOO_COSTLY', `ran more than ${format(this.budget.maxSteps)} evaluation steps (EXPRESSION_MAX_STEPS)`);
    }
  }

  built(op: string, value: unknown): void {
    if (!BUILDS.has(op)) return;
    let size: number;
    if (typeof value === 'string') {
      size = value.length;
      if (size > this.budget.maxBytes) {
        throw new ExpressionError('EXPRESSION_TOO_LARGE', `built a string of ${format(size)} characters; at most ${format(this.budget.maxBytes)} are allowed (EXPRESSION_MAX_BYTES)`);
      }
    } else if (Array.isArray(value) || value instanceof Map || value instanceof Uint8Array) {
      const entries = value instanceof Map ? value.size : value.length;
      if (entries > this.budget.maxItems && !(value instanceof Uint8Array)) {
        throw new ExpressionError('EXPRESSION_TOO_LARGE', `built a list or map of ${format(entries)} entries; at most ${format(this.budget.maxItems)} are allowed (EXPRESSION_MAX_ITEMS)`);
      }
      size = value instanceof Uint8Array ? entries : entries * ENTRY_BYTES;
    } else {
      return;
    }
    this.bytes += size;
    if (this.bytes > this.budget.maxBytes) {
      throw new ExpressionError('EXPRESSION_TOO_LARGE', `built more than ${format(this.budget.maxBytes)} bytes in all (EXPRESSION_MAX_BYTES)`);
    }
  }
}

interface EvaluatorNode {
  op: string;
  evaluate: (ev: Evaluator, node: EvaluatorNode, ctx: unknown) => unknown;
}
interface Evaluator {
  run: (node: EvaluatorNode, ctx: unknown) => unknown;
  /** Evaluates and gives an error as a value (for `&&`, `||`, `all`, `exists`, which may not need it). */
  tryEval: (node: EvaluatorNode, ctx: unknown) => unknown;
}

/** The meter of the evaluation running now; none outside one. */
let current: ExpressionMeter | undefined;
const metered = new WeakSet<Evaluator>();

/**
 * Makes a compiled expression count its evaluation on the meter given to `withMeter`. cel-js
 * evaluates every node below the root through its evaluator's `run`; the first evaluation of any
 * expression hands that evaluator over, and its `run` is wrapped once.
 */
export function meterExpression(expression: ParseResult): ParseResult {
  const root = expression.ast as unknown as EvaluatorNode;
  const evaluateRoot = root.evaluate;
  const evaluate: EvaluatorNode['evaluate'] = function (this: EvaluatorNode, ev, node, ctx) {
    if (!metered.has(ev)) {
      metered.add(ev);
      const run = ev.run.bind(ev);
      ev.run = (child, childCtx) => {
        if (!current) return run(child, childCtx);
        current.step();
        const value = run(child, childCtx);
        current.built(child.op, value);
        return value;
      };
      // A limit passed is never an error that a condition may look past: it ends the evaluation.
      const tryEval = ev.tryEval.bind(ev);
      ev.tryEval = (child, childCtx) => {
        const value = tryEval(child, childCtx);
        if (value instanceof ExpressionError) throw value;
        return value;
      };
    }
    current?.step();
    const value = evaluateRoot.call(this, ev, node, ctx);
    // cel-js replaces a node's evaluate with its operation's on first use: the root keeps this one.
    root.evaluate = evaluate;
    current?.built(root.op, value);
    return value;
  };
  root.evaluate = evaluate;
  return expression;
}

/** Runs `work` with its expression evaluations counted on `meter`. */
export function withMeter<T>(meter: ExpressionMeter, work: () => T): T {
  const outer = current;
  current = meter;
  try {
    return work();
  } finally {
    current = outer;
  }
}
