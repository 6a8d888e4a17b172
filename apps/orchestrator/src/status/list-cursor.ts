import type { ListPosition } from '../persistence/tasks.repository.js';

const POSITION = /^(\d{1,20})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * The cursor of a listing page: where the page ended, opaque to clients (base64url of the last
 * root's creation time in microseconds and its id), so that the format may change.
 */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(`${position.micros}.${position.id}`).toString('base64url');
}

/** The position a cursor names, or null when it is not one this service gave. */
export function decodeCursor(cursor: string): ListPosition | null {
  const match = POSITION.exec(Buffer.from(cursor, 'base64url').toString());
  return match ? { micros: match[1], id: match[2] } : null;
}
