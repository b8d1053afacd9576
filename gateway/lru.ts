/**
 * A small bounded map with per-entry expiry, least recently used evicted first. Used for the
 * verified-token cache (R-PL-3 scale: repeated requests skip signature checks) without letting
 * a flood of distinct tokens grow memory.
 */
export class ExpiringLru<V> {
  readonly #max: number;
  readonly #map = new Map<string, { value: V; expiresAt: number }>();

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.#max = maxEntries;
  }

  /** The value if present and not expired at `now` (epoch ms); refreshes its recency. */
  get(key: string, now: number): V | undefined {
    const hit = this.#map.get(key);
    if (!hit) return undefined;
    this.#map.delete(key);
    if (hit.expiresAt <= now) return undefined;
    this.#map.set(key, hit);
    return hit.value;
  }

  set(key: string, value: V, expiresAt: number): void {
    this.#map.delete(key);
    this.#map.set(key, { value, expiresAt });
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value as string;
      this.#map.delete(oldest);
    }
  }

  /**
   * Read-through for a value the gateway may reuse for `ttlMs` (the marker checks of revocation and
   * delegations): the cached value, else `load()`'s, kept for `ttlMs` (0: never kept). A failing
   * load caches nothing and throws.
   */
  async getOrLoad(key: string, now: number, ttlMs: number, load: () => Promise<V>): Promise<V> {
    const hit = this.get(key, now);
    if (hit !== undefined) return hit;
    const value = await load();
    if (ttlMs > 0) this.set(key, value, now + ttlMs);
    return value;
  }

  get size(): number {
    return this.#map.size;
  }
}
