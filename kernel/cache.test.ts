import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { testCache } from '../test/support/infra.ts';
import { openCache, type Cache } from './cache.ts';

let cache: Cache;
beforeAll(async () => { cache = await testCache(); });
afterAll(async () => { await cache.close(); });

describe('cache.keys', () => {
  test('set nx, get, del, incr with ttl', async () => {
    expect(await cache.set('a', '1', { nx: true })).toBe(true);
    expect(await cache.set('a', '2', { nx: true })).toBe(false);
    expect(await cache.get('a')).toBe('1');
    expect(await cache.incr('n', 60)).toBe(1);
    expect(await cache.incr('n', 60)).toBe(2);
    expect(await cache.ttl('n')).toBeGreaterThan(0);
    expect(await cache.del('a', 'missing')).toBe(1);
    expect(await cache.get('a')).toBeNull();
  });
  test('a counter is never left without its expiry: one left so (by a failure between INCR and EXPIRE) gets one back at the next increment; later increments keep the first window', async () => {
    // What a failed second round trip used to leave: a count with no expiry, locking its subject for good.
    await cache.set('stuck', '5');
    expect(await cache.ttl('stuck')).toBe(-1);
    expect(await cache.incr('stuck', 60)).toBe(6);
    const ttl = await cache.ttl('stuck');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    // A later increment with a longer window does not extend the first one.
    expect(await cache.incr('stuck', 3600)).toBe(7);
    expect(await cache.ttl('stuck')).toBeLessThanOrEqual(60);
    // Without a ttl, a plain counter.
    expect(await cache.incr('plain')).toBe(1);
    expect(await cache.ttl('plain')).toBe(-1);
  });
  test('sets', async () => {
    await cache.sAdd('s', 'x');
    await cache.sAdd('s', 'y');
    expect((await cache.sMembers('s')).sort()).toEqual(['x', 'y']);
  });
});

describe('cache.streams', () => {
  test('consumer groups deliver once, pending until acked, claimable after idle', async () => {
    await cache.xGroupCreate('st', 'g');
    await cache.xGroupCreate('st', 'g'); // idempotent
    await cache.xAdd('st', { n: '1' });
    await cache.xAdd('st', { n: '2' });
    const first = await cache.xReadGroup('st', 'g', 'c1', { count: 10, blockMs: 100 });
    expect(first.map((m) => m.fields.n)).toEqual(['1', '2']);
    expect(await cache.xReadGroup('st', 'g', 'c1', { count: 10, blockMs: 50 })).toEqual([]);
    await cache.xAck('st', 'g', first[0]!.id);
    const claimed = await cache.xAutoClaim('st', 'g', 'c2', 0, 10);
    expect(claimed.map((m) => m.fields.n)).toEqual(['2']);
  });
  test('a blocked read wakes on a new message', async () => {
    await cache.xGroupCreate('wake', 'g');
    const pending = cache.xReadGroup('wake', 'g', 'c', { count: 1, blockMs: 3000 });
    setTimeout(() => { void cache.xAdd('wake', { hello: 'world' }); }, 50);
    const got = await pending;
    expect(got[0]?.fields.hello).toBe('world');
  });
});

describe('cache.pubsub', () => {
  test('a message reaches every listener of its channel (another connection with the same prefix too), none after unsubscribing, none of another prefix', async () => {
    const prefix = (cache as Cache & { prefix: string }).prefix;
    // Another process: its own connection to the same Redis (the in-process stand-in is one object).
    const other = cache.kind === 'redis' ? await openCache({ url: process.env.REDIS_URL, prefix }) : cache;
    const stranger = await testCache();
    try {
      const got: string[] = [];
      let arrived!: () => void;
      const seen = new Promise<void>((resolve) => { arrived = resolve; });
      await other.subscribe('room', (m) => { got.push(`other:${m}`); if (m === 'two') arrived(); });
      const stop = await cache.subscribe('room', (m) => { got.push(`self:${m}`); });
      const foreign: string[] = [];
      await stranger.subscribe('room', (m) => { foreign.push(m); });
      await cache.publish('room', 'one');
      await stop();
      await cache.publish('room', 'two');
      await seen;
      expect(got.filter((m) => m.startsWith('other:'))).toEqual(['other:one', 'other:two']);
      expect(got.filter((m) => m.startsWith('self:'))).toEqual(['self:one']);
      expect(foreign).toEqual([]);
    } finally {
      if (other !== cache) await other.close();
      await stranger.close();
    }
  });
});
