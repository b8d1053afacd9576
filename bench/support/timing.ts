/**
 * Small pieces the benchmarks share: a free local port for a server whose own URL must be known
 * before it listens (federation entity ids, issuers), and a sequential rate measurement.
 */
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

/** `fn` after three warm-up calls, one at a time for `ms`: operations per second and ms each. */
export async function rate(fn: () => Promise<unknown>, ms: number): Promise<{ perSecond: number; msEach: number; n: number }> {
  for (let i = 0; i < 3; i++) await fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) { await fn(); n++; }
  const t = performance.now() - start;
  return { perSecond: n / (t / 1000), msEach: t / n, n };
}

/**
 * Named runs compared: each run's cost in requests (`count`, once each, in order), then each
 * run's rate over `ms`, in order (the benchmarks' baseline-and-variants pattern).
 */
export async function compareRuns<K extends string, C>(runs: Record<K, () => Promise<unknown>>, count: (fn: () => Promise<unknown>) => Promise<C>, ms: number): Promise<Record<K, { count: C; rate: Awaited<ReturnType<typeof rate>> }>> {
  const names = Object.keys(runs) as K[];
  const counts = new Map<K, C>();
  for (const k of names) counts.set(k, await count(runs[k]));
  const out = {} as Record<K, { count: C; rate: Awaited<ReturnType<typeof rate>> }>;
  for (const k of names) out[k] = { count: counts.get(k)!, rate: await rate(runs[k], ms) };
  return out;
}
