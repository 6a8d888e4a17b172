import { isPlainObject } from '@orchestrator/contracts/json';
import { ExpressionError } from './expression-error.js';
import type { ExpressionBudget } from './expression-meter.js';
import { jsonSizeWithin } from './json-size.js';
import { TemplateError } from './planning.errors.js';
import { evaluate, resolveTemplate, type TemplateContext } from './template.js';

/** How far the expressions of one job may go: each evaluation's budget, and the time and bytes of the whole job. */
export interface ExpressionSettings extends ExpressionBudget {
  /** Wall-clock time of one job (EXPRESSION_TIMEOUT_MS). */
  timeoutMs: number;
}

/**
 * What expressions are asked to do for a transition: a `when` (`evaluate`), a template with
 * `$expr`s in it (`resolve`: a step's input, a workflow's output), or a `for_each` step's list and
 * the input of each of its items (`expand`), all bounded together.
 */
export type ExpressionJob =
  | { kind: 'evaluate'; source: string; context: TemplateContext }
  | { kind: 'resolve'; template: unknown; context: TemplateContext }
  | { kind: 'expand'; source: string; template: unknown; context: TemplateContext; maxItems: number };

/** A job's outcome as it crosses between threads: its value, or its error as data. */
export type JobOutcome = { ok: true; value: unknown } | { ok: false; error: JobError };

export interface JobError {
  kind: 'expression' | 'template' | 'other';
  code?: string;
  path?: string;
  message: string;
}

const format = (n: number): string => n.toLocaleString('en-US');

/** Runs a job in this thread. Throws ExpressionError, TemplateError, or an Error naming what the values broke. */
export function runExpressionJob(job: ExpressionJob, settings: ExpressionSettings): unknown {
  switch (job.kind) {
    case 'evaluate':
      return evaluate(job.source, job.context, settings);
    case 'resolve':
      return fitting(resolveTemplate(job.template, job.context, settings), settings, 'builds');
    case 'expand': {
      const list = evaluate(job.source, job.context, settings);
      if (!Array.isArray(list)) throw new Error(`gave ${list === null ? 'null' : typeof list}, not a list`);
      if (list.length > job.maxItems) throw new Error(`gave ${format(list.length)} items; at most ${format(job.maxItems)} are allowed`);
      const inputs = list.map((item: unknown, index) => {
        const input = resolveTemplate(job.template, { ...job.context, item, index }, settings);
        if (!isPlainObject(input)) throw new Error(`the input of item ${index} must resolve to a JSON object`);
        return input;
      });
      return fitting(inputs, settings, `the inputs of its ${format(inputs.length)} items come to`);
    }
  }
}

/** A value built by a template, refused before anything writes it when it is larger than the budget allows. */
function fitting<T>(value: T, settings: ExpressionSettings, what: string): T {
  const size = jsonSizeWithin(value, settings.maxBytes);
  if (size > settings.maxBytes) {
    throw new ExpressionError('EXPRESSION_TOO_LARGE', `${what} more than ${format(settings.maxBytes)} bytes of JSON (EXPRESSION_MAX_BYTES)`);
  }
  return value;
}

/** Runs a job and gives its outcome as data, to post across threads. */
export function jobOutcome(job: ExpressionJob, settings: ExpressionSettings): JobOutcome {
  try {
    return { ok: true, value: runExpressionJob(job, settings) };
  } catch (error) {
    return { ok: false, error: errorData(error) };
  }
}

function errorData(error: unknown): JobError {
  if (error instanceof ExpressionError) return { kind: 'expression', code: error.code, message: error.message };
  if (error instanceof TemplateError) return { kind: 'template', path: error.path, message: error.message };
  return { kind: 'other', message: error instanceof Error ? error.message : String(error) };
}

/** The error a job's outcome carries, as the thread that asked can throw it. */
export function errorOf(data: JobError): Error {
  switch (data.kind) {
    case 'expression':
      return new ExpressionError((data.code ?? 'EXPRESSION_FAILED') as ExpressionError['code'], data.message);
    case 'template':
      return new TemplateError(data.path ?? '');
    case 'other':
      return new Error(data.message);
  }
}
