/** Sizes of objects measured whole: the data templates read never changes once read, and is read again and again. */
const measured = new WeakMap<object, number>();

/**
 * About how many characters `value` takes as JSON (strings by their length, without escapes),
 * counted without writing it, and only up to `limit`: a result past it is some number above it,
 * reached in time proportional to the limit, not to the value (a value built of references to
 * the same large string many times over is never written to be measured).
 */
export function jsonSizeWithin(value: unknown, limit: number): number {
  let total = 0;
  const visit = (item: unknown): void => {
    if (total > limit) return;
    if (typeof item === 'string') total += item.length + 2;
    else if (typeof item === 'number' || typeof item === 'boolean' || item === null) total += String(item).length;
    else if (typeof item === 'object') {
      const known = measured.get(item);
      if (known !== undefined) {
        total += known;
        return;
      }
      const before = total;
      if (Array.isArray(item)) {
        total += 2;
        for (const entry of item) {
          visit(entry);
          total += 1;
          if (total > limit) return;
        }
      } else {
        total += 2;
        for (const [key, entry] of Object.entries(item)) {
          total += key.length + 4;
          visit(entry);
          if (total > limit) return;
        }
      }
      measured.set(item, total - before);
    }
  };
  visit(value);
  return total;
}
