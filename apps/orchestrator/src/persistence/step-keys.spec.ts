import { describe, expect, it } from 'vitest';
import { isCurrentKey, isItemRow, itemIndex, itemKey, parseSubtaskWireId, planKey, retiredKey, subtaskWireId } from './step-keys.js';

describe('step keys', () => {
  it('names an item by its step and position, and finds both again', () => {
    const key = itemKey('sections', 12);
    expect(key).toBe('sections[12]');
    expect(planKey(key)).toBe('sections');
    expect(itemIndex(key)).toBe(12);
    expect(itemIndex('sections')).toBe(-1);
  });

  it('keeps a retired row apart from the plan that runs now, under the step it was', () => {
    for (const key of ['review', 'sections[3]']) {
      const retired = retiredKey(key, 2);
      expect(isCurrentKey(key)).toBe(true);
      expect(isCurrentKey(retired)).toBe(false);
      expect(planKey(retired)).toBe(planKey(key));
    }
  });

  it('tells an item row from a step row by its parent', () => {
    expect(isItemRow({ parent_id: 'root', root_id: 'root' })).toBe(false);
    expect(isItemRow({ parent_id: 'step', root_id: 'root' })).toBe(true);
    expect(isItemRow({ parent_id: null, root_id: 'root' })).toBe(false);
  });
});

describe('sub-task wire ids', () => {
  it('round-trips a row id and attempt', () => {
    const id = '0b7f6f5e-2d1c-4c3b-9a8f-7e6d5c4b3a21';
    expect(parseSubtaskWireId(subtaskWireId(id, 3))).toEqual({ rowId: id, attempt: 3 });
  });

  it.each(['blog-1', 'x:1', '0b7f6f5e-2d1c-4c3b-9a8f-7e6d5c4b3a21:0', '0b7f6f5e-2d1c-4c3b-9a8f-7e6d5c4b3a21:one', '0B7F6F5E-2D1C-4C3B-9A8F-7E6D5C4B3A21:1'])(
    'rejects %s',
    (wireId) => expect(parseSubtaskWireId(wireId)).toBeNull(),
  );
});
