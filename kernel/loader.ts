/**
 * A per-request batching cache (the DataLoader idea, in a few lines): every `load` issued in the
 * same tick goes to the database as one `= any($1)` query, and each key is fetched once per
 * request. Create one per request, never share across callers.
 */
export type Load<K, V> = (key: K) => Promise<V>;

export function batchLoader<K, V>(fetch: (keys: readonly K[]) => Promise<Map<K, V>>, missing: V): Load<K, V> {
  const cache = new Map<K, Promise<V>>();
  let queue: Array<{ key: K; resolve: (v: V) => void; reject: (e: unknown) => void }> = [];

  const dispatch = () => {
    const batch = queue;
    queue = [];
    fetch(batch.map((b) => b.key)).then(
      (found) => { for (const b of batch) b.resolve(found.has(b.key) ? found.get(b.key) as V : missing); },
      (e: unknown) => { for (const b of batch) { cache.delete(b.key); b.reject(e); } },
    );
  };

  return (key) => {
    const hit = cache.get(key);
    if (hit) return hit;
    const p = new Promise<V>((resolve, reject) => {
      // After the current promise jobs, so loads issued by sibling resolvers join the batch.
      if (queue.length === 0) void Promise.resolve().then(() => process.nextTick(dispatch));
      queue.push({ key, resolve, reject });
    });
    cache.set(key, p);
    return p;
  };
}
