import { describe, expect, it } from 'vitest';
import { eventWaitKey, matches, shapeOf, valuesFor } from './wait-keys.js';

describe('wait keys', () => {
  it('hashes an event like the step that waits for it, whatever the order of fields', () => {
    const step = eventWaitKey('payment.received', { invoice_id: 'inv-1', currency: 'EUR' });
    const event = { currency: 'EUR', amount: 10, invoice_id: 'inv-1' };
    const values = valuesFor(event, shapeOf({ invoice_id: 'x', currency: 'y' }));
    expect(values).not.toBeNull();
    expect(eventWaitKey('payment.received', values ?? {})).toBe(step);
  });

  it('tells apart other values, other names and nested objects written in another order', () => {
    const key = eventWaitKey('payment.received', { invoice_id: 'inv-1' });
    expect(eventWaitKey('payment.received', { invoice_id: 'inv-2' })).not.toBe(key);
    expect(eventWaitKey('payment.refused', { invoice_id: 'inv-1' })).not.toBe(key);
    expect(eventWaitKey('e', { a: { x: 1, y: 2 } })).toBe(eventWaitKey('e', { a: { y: 2, x: 1 } }));
    expect(eventWaitKey('e', { a: 1 })).not.toBe(eventWaitKey('e', { a: '1' }));
  });

  it('leaves out an event that lacks a field of the shape', () => {
    expect(valuesFor({ currency: 'EUR' }, ['currency', 'invoice_id'])).toBeNull();
  });

  it('matches on equality of every field, not containment', () => {
    expect(matches({ tags: ['a'] }, { tags: ['a', 'b'] })).toBe(false);
    expect(matches({ tags: ['a'], n: 1 }, { n: 1, tags: ['a'], other: true })).toBe(true);
    expect(matches({ n: 1 }, {})).toBe(false);
  });
});
