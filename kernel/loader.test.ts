import { describe, expect, test } from '@jest/globals';
import { batchLoader } from './loader.ts';

describe('item.loader', () => {
  test('loads issued in the same tick become one fetch, and each key is fetched once per loader', async () => {
    const calls: string[][] = [];
    const load = batchLoader(async (keys: readonly string[]) => {
      calls.push([...keys]);
      return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, k.toUpperCase()]));
    }, null);
    expect(await Promise.all([load('a'), load('b'), load('a'), load('missing')])).toEqual(['A', 'B', 'A', null]);
    expect(await load('b')).toBe('B');
    expect(calls).toEqual([['a', 'b', 'missing']]);
  });

  test('a failed fetch rejects its batch and is not cached', async () => {
    let fail = true;
    const load = batchLoader(async (keys: readonly string[]) => {
      if (fail) throw new Error('db down');
      return new Map(keys.map((k) => [k, 1]));
    }, 0);
    await expect(load('x')).rejects.toThrow('db down');
    fail = false;
    expect(await load('x')).toBe(1);
  });
});
