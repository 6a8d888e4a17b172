import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './list-cursor.js';

describe('listing cursors', () => {
  it('give back the position they were made from', () => {
    const position = { micros: '1796000000123456', id: '0b9c2f5e-4a51-4f9b-9a43-8b7d8f3e2c11' };
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it('refuse what this service did not make', () => {
    for (const text of ['', 'abc', Buffer.from('12.not-a-uuid').toString('base64url'), Buffer.from("1.x' OR 1=1").toString('base64url')]) {
      expect(decodeCursor(text)).toBeNull();
    }
  });
});
