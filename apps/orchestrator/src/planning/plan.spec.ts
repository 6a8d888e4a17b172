import { describe, expect, it } from 'vitest';
import { resolveTemplate, type TemplateContext } from './plan.js';
import { TemplateError } from './planning.errors.js';

const context: TemplateContext = {
  request: { task_id: 't-1', task_type: 'flow', priority: 'HIGH', payload: { topic: 'Graphs', tags: ['a', 'b'] } },
  steps: { draft: { result: { title: 'T', sections: [{ name: 'intro' }] } } },
};

describe('resolveTemplate', () => {
  it('replaces references in nested objects and arrays and keeps literals', () => {
    expect(
      resolveTemplate(
        { topic: { $ref: 'request.payload.topic' }, first: { $ref: 'steps.draft.result.sections.0.name' }, list: [{ $ref: 'request.payload.tags.1' }, 3], fixed: 'x' },
        context,
      ),
    ).toEqual({ topic: 'Graphs', first: 'intro', list: ['b', 3], fixed: 'x' });
  });

  it('uses the default of a reference that is not there, and fails naming the path without one', () => {
    expect(resolveTemplate({ $ref: 'request.payload.tone', default: 'calm' }, context)).toBe('calm');
    expect(() => resolveTemplate({ a: { $ref: 'steps.draft.result.summary' } }, context)).toThrow(
      new TemplateError('steps.draft.result.summary is not there'),
    );
  });

  it('does not reach into prototypes', () => {
    expect(resolveTemplate({ $ref: 'request.payload.constructor', default: null }, context)).toBeNull();
  });
});
