/** The most recent entries by key, least recently set evicted first: a repeated delivery gets the same answer. */
export class AnswerCache<V> {
  private readonly entries = new Map<string, { value: V; set: number }>();
  /**
   * Keys in the order they were set, the oldest at `head`, each with the count of sets at the time:
   * a key set again or deleted since leaves a stale place, skipped when reached. (A Map alone
   * would do, deleting its first key to evict; but V8 leaves a deleted key's slot in the way of
   * the next walk from the start until the table is rebuilt, which made each eviction cost as much
   * as all the evictions before it.)
   */
  private keys: string[] = [];
  private sets: number[] = [];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`cache capacity must be a positive integer, got ${capacity}`);
  }

  get(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  set(key: string, value: V): void {
    const set = this.count++;
    this.entries.set(key, { value, set });
    this.keys.push(key);
    this.sets.push(set);
    while (this.entries.size > this.capacity) {
      const oldest = this.keys[this.head];
      if (this.entries.get(oldest)?.set === this.sets[this.head]) this.entries.delete(oldest);
      this.head += 1;
    }
    if (this.head >= this.capacity || this.keys.length - this.head > 2 * this.capacity) this.compact();
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops the places already passed and the stale ones. */
  private compact(): void {
    const keys: string[] = [];
    const sets: number[] = [];
    for (let i = this.head; i < this.keys.length; i++) {
      if (this.entries.get(this.keys[i])?.set !== this.sets[i]) continue;
      keys.push(this.keys[i]);
      sets.push(this.sets[i]);
    }
    this.keys = keys;
    this.sets = sets;
    this.head = 0;
  }
}
