/**
 * How the rows of a workflow are named. A step's row is keyed by its plan step id (`review`); the
 * row of one item of a `for_each` step by the step id and its position (`sections[3]`, parent: the
 * step's row); a row a revised plan dropped gets the revision it belonged to (`review@1`,
 * `sections[3]@1`). On the wire, one attempt of a sub-task is `<row id>:<attempt>`.
 */

/** The row of one item of a `for_each` step. */
export function itemKey(stepId: string, index: number): string {
  return `${stepId}[${index}]`;
}

/** The plan step a row belongs to: its own key, or for an item the key of its `for_each` step. */
export function planKey(stepKey: string): string {
  const end = stepKey.search(/[[@]/);
  return end < 0 ? stepKey : stepKey.slice(0, end);
}

/** The position of an item in its list; -1 for a row that is not an item. */
export function itemIndex(stepKey: string): number {
  const match = /\[(\d+)\]/.exec(stepKey);
  return match ? Number(match[1]) : -1;
}

/** What a row's key gains when a revised plan drops its step, before the revision it ran in. */
export const RETIRED_MARK = '@';

/** The key of a row that a revised plan dropped, kept for the record under the revision it ran in. */
export function retiredKey(stepKey: string, revision: number): string {
  return `${stepKey}${RETIRED_MARK}${revision}`;
}

/** True for the row of a step (or item) of the plan that runs now, false for one a revision dropped. */
export function isCurrentKey(stepKey: string): boolean {
  return !stepKey.includes(RETIRED_MARK);
}

/** The row of one item of a `for_each` step: its parent is the step's row, not the workflow's root. */
export function isItemRow(row: { parent_id: string | null; root_id: string }): boolean {
  return row.parent_id !== null && row.parent_id !== row.root_id;
}

/** The wire id of one attempt of a sub-task: `<row id>:<attempt>`. */
export function subtaskWireId(rowId: string, attempt: number): string {
  return `${rowId}:${attempt}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function parseSubtaskWireId(wireId: string): { rowId: string; attempt: number } | null {
  const separator = wireId.lastIndexOf(':');
  if (separator < 0) return null;
  const rowId = wireId.slice(0, separator);
  const attempt = Number(wireId.slice(separator + 1));
  if (!isUuid(rowId) || !Number.isSafeInteger(attempt) || attempt < 1) return null;
  return { rowId, attempt };
}
