import { validateSync, type ValidationError } from 'class-validator';
import { isPlainObject } from './json-limits.js';

export { isPlainObject };

export type Validated<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Fields a DTO does not declare are left out, not refused: receivers ignore top-level fields they
 * do not know (CONTRACT.md), so that either side can add fields without breaking the other.
 */
const VALIDATOR_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: false,
  forbidUnknownValues: true,
  stopAtFirstError: true,
  validationError: { target: false, value: false },
} as const;


/**
 * Copies the own fields of `input` into a new `Dto` and validates it.
 * The error names every wrong field and the reason, e.g. `task_type: must match ...`.
 */
export function validateInto<T extends object>(
  Dto: new () => T,
  input: unknown,
  what: string,
): Validated<T> {
  if (!isPlainObject(input)) {
    return { ok: false, error: `${what}: must be a JSON object` };
  }
  const instance = Object.assign(new Dto(), input);
  const errors = validateSync(instance, VALIDATOR_OPTIONS);
  if (errors.length > 0) return { ok: false, error: formatValidationErrors(errors) };
  return { ok: true, value: instance };
}

export function formatValidationErrors(errors: ValidationError[], prefix = ''): string {
  const lines: string[] = [];
  for (const error of errors) {
    const field = `${prefix}${error.property}`;
    for (const message of Object.values(error.constraints ?? {})) {
      lines.push(`${field}: ${message}`);
    }
    if (error.children?.length) lines.push(formatValidationErrors(error.children, `${field}.`));
  }
  return lines.join('; ');
}
