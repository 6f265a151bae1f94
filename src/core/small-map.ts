/**
 * A Map for the many maps that hold one entry (a resource's one spelling, a claim's one owner, a
 * server's one key): the entry is kept in the object itself, and a real Map is made only for a
 * second one. An empty or one-entry Map costs about 180 bytes in V8; this costs about 50, which
 * at 10,000 workloads is over 100,000 maps. It behaves as a Map does (keys compared with ===,
 * iteration in insertion order) for the keys it is used with: strings and numbers, never NaN.
 */
export class SmallMap<K, V> implements ReadonlyMap<K, V> {
  #key: K | undefined;
  #value: V | undefined;
  #one = false;
  /** Every entry, once there were two at a time (kept even when fewer remain). */
  #many: Map<K, V> | undefined;

  get size(): number {
    return this.#many?.size ?? (this.#one ? 1 : 0);
  }

  get(key: K): V | undefined {
    if (this.#many !== undefined) return this.#many.get(key);
    return this.#one && this.#key === key ? this.#value : undefined;
  }

  has(key: K): boolean {
    if (this.#many !== undefined) return this.#many.has(key);
    return this.#one && this.#key === key;
  }

  set(key: K, value: V): this {
    if (this.#many !== undefined) {
      this.#many.set(key, value);
    } else if (!this.#one || this.#key === key) {
      this.#key = key;
      this.#value = value;
      this.#one = true;
    } else {
      this.#many = new Map([[this.#key as K, this.#value as V]]);
      this.#many.set(key, value);
      this.#key = undefined;
      this.#value = undefined;
      this.#one = false;
    }
    return this;
  }

  delete(key: K): boolean {
    if (this.#many !== undefined) return this.#many.delete(key);
    if (!this.#one || this.#key !== key) return false;
    this.#key = undefined;
    this.#value = undefined;
    this.#one = false;
    return true;
  }

  // Built-in iterators (a Map's, or an array's of the one entry), not generators: planning walks
  // these maps for tens of thousands of resources a pass, and a generator is several times slower.
  entries(): MapIterator<[K, V]> {
    if (this.#many !== undefined) return this.#many.entries();
    return (this.#one ? [[this.#key as K, this.#value as V] as [K, V]] : []).values();
  }

  keys(): MapIterator<K> {
    if (this.#many !== undefined) return this.#many.keys();
    return (this.#one ? [this.#key as K] : []).values();
  }

  values(): MapIterator<V> {
    if (this.#many !== undefined) return this.#many.values();
    return (this.#one ? [this.#value as V] : []).values();
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }
}
