/**
 * A cache bounded by entry count that drops the least recently used entries, approximately:
 * two generations. Look-ups and inserts go to the young Map; an entry found in the old one
 * moves to the young one; when the young one is full it becomes the old one and the previous
 * old one is dropped whole. So it holds at most max(2, maxEntries) entries, never drops an
 * entry used within the last maxEntries / 2 distinct keys, and a hit in the young Map is one
 * look-up. (An exact LRU moves every hit to the end: a delete and a set per read, which cost
 * more than the rest of a Verify cache hit.) Eviction only ever costs a reload.
 */
export class LruCache<V> {
  readonly #generationSize: number;
  #young = new Map<string, V>();
  #old = new Map<string, V>();

  constructor(maxEntries: number) {
    this.#generationSize = Math.max(1, Math.floor(maxEntries / 2));
  }

  get(key: string): V | undefined {
    const value = this.#young.get(key);
    if (value !== undefined) return value;
    const old = this.#old.get(key);
    if (old === undefined) return undefined;
    this.#old.delete(key);
    this.#insert(key, old);
    return old;
  }

  set(key: string, value: V): void {
    this.#old.delete(key);
    if (this.#young.has(key)) this.#young.set(key, value);
    else this.#insert(key, value);
  }

  delete(key: string): void {
    this.#young.delete(key);
    this.#old.delete(key);
  }

  clear(): void {
    this.#young.clear();
    this.#old.clear();
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }

  #insert(key: string, value: V): void {
    if (this.#young.size >= this.#generationSize) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }
}
