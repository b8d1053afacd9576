/**
 * Poll until `check` gives something truthy (events, scheduler loops and consumers are
 * asynchronous) and return it; fails the test with "condition not met in time" after `ms`.
 */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, ms = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
