/**
 * events.faults: Redis losing its data (a restart without persistence) under a running consumer
 * and outbox relay, on real Redis (the test's own key prefix, deleted with SCAN + DEL; never
 * FLUSHALL) and on the in-process substitute. The consumer must recreate its group and stream,
 * the relay must publish again what was published but not acknowledged, and each event must take
 * effect exactly once.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { loseEverything, testCache, testDb, type TestDb } from '../test/support/infra.ts';
import { eventually } from '../test/support/eventually.ts';
import { silentLogger } from './log.ts';
import { systemClock } from './clock.ts';
import { migrate } from './migrate.ts';
import { MemoryCache, type Cache } from './cache.ts';
import { EVENT_TABLES_SQL, enqueueEvent, startConsumer, startOutboxRelay, streamMarkerKey } from './events.ts';

let db: TestDb;
const log = silentLogger();

beforeAll(async () => {
  db = await testDb();
  await migrate(db, 'evt', [
    { id: '001_events', sql: EVENT_TABLES_SQL },
    { id: '002_effects', sql: 'create table effects (event_id uuid primary key, n int not null)' },
  ]);
});
afterAll(async () => { await db.destroy(); });

const caches: Array<[string, () => Promise<Cache & { prefix?: string }>]> = [
  ['the in-process substitute', async () => new MemoryCache(`yw-test:${randomUUID().slice(0, 8)}:`)],
  ...(process.env.REDIS_URL ? [['Redis', () => testCache()] as [string, () => Promise<Cache & { prefix?: string }>]] : []),
];

describe.each(caches)('events.faults on %s', (_name, open) => {
  test('Redis loses every key mid-stream: the consumer recreates its group, the relay publishes again what was not acknowledged, each event takes effect once', async () => {
    const cache = await open();
    const schemaStream = `lost-${randomUUID().slice(0, 8)}`;
    const group = `g-${schemaStream}`;
    const handled = new Map<string, number>();
    let release: (() => void) | undefined;
    const stuck = new Promise<void>((r) => { release = r; });
    let holding = false;
    let blockedId: string | undefined;
    const consumer = await startConsumer({
      db, cache, schema: 'evt', stream: schemaStream, group, log, blockMs: 50, claimIdleMs: 200,
      // The first event of the second round keeps the consumer busy while the rest are published
      // (outside the transaction: on PGlite, one connection, an open one would stop the relay too).
      async prepare(e) {
        if (e.id === blockedId) { holding = true; await stuck; }
      },
      async handle(e, q) {
        handled.set(e.id, (handled.get(e.id) ?? 0) + 1);
        await q.query('insert into evt.effects (event_id, n) values ($1, 1)', [e.id]);
      },
    });
    const relay = startOutboxRelay({ db, cache, schema: 'evt', log, clock: systemClock, intervalMs: 20, ackCheckMs: 50 });
    const enqueue = (n: number) => db.tx(async (q) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push(await enqueueEvent(q, 'evt', schemaStream, 'thing.happened', { caseId: randomUUID(), i }, new Date()));
      return ids;
    });
    const effects = async (ids: string[]) => (await db.query('select 1 from evt.effects where event_id = any($1::uuid[])', [ids])).rowCount;
    const unacked = async () => (await db.query('select 1 from evt.outbox where stream = $1 and acked_at is null', [schemaStream])).rowCount;
    try {
      // Round 1: handled, acknowledged, and recorded as acknowledged by the relay.
      const first = await enqueue(5);
      relay.poke();
      await eventually(async () => (await effects(first)) === 5 && (await unacked()) === 0, 10_000);

      // Round 2: one event holds the consumer; the others are published behind it, unread.
      const [head] = await enqueue(1);
      blockedId = head;
      relay.poke();
      await eventually(async () => holding, 10_000);
      const rest = await enqueue(9);
      relay.poke();
      await eventually(async () => (await db.query('select 1 from evt.outbox where id = any($1::uuid[]) and published_at is not null', [rest])).rowCount === 9, 10_000);
      expect(await cache.xLen(schemaStream)).toBe(15);

      // Redis loses everything: streams, groups, pending entries, the relay's markers.
      expect(await loseEverything(cache)).toBeGreaterThan(0);
      release!();

      const second = [head!, ...rest];
      await eventually(async () => (await effects(second)) === 10, 15_000);
      await eventually(async () => consumer.healthy!() && relay.healthy() && (await unacked()) === 0, 15_000).catch(async () => {
        throw new Error(`not settled: consumer healthy ${consumer.healthy!()}, relay healthy ${relay.healthy()}, unacknowledged ${await unacked()}, `
          + `floor ${await cache.xAckFloor(schemaStream)}, rows ${JSON.stringify((await db.query('select stream_id, published_at is not null as published from evt.outbox where stream = $1 and acked_at is null', [schemaStream])).rows)}`);
      });
      expect(await cache.get(streamMarkerKey(schemaStream))).not.toBeNull(); // the relay noticed, and marked the new stream
      // Exactly once: every event of both rounds handled once, never twice.
      expect([...first, ...second].map((id) => handled.get(id) ?? 0)).toEqual(new Array(15).fill(1));
      expect((await db.query('select count(*)::int as n from evt.processed_events where consumer = $1', [group])).rows).toEqual([{ n: 15 }]);
      // Round 1 was acknowledged before the loss: not published again.
      const republished = new Set((await cache.xRange(schemaStream, 1000)).map((m) => m.fields.id));
      expect(first.filter((id) => republished.has(id))).toEqual([]);
      for (const id of rest) expect(republished.has(id)).toBe(true);
    } finally {
      release?.();
      await relay.stop();
      await consumer.stop();
      await cache.close();
    }
  }, 60_000);

  test('events published after the loss reach a consumer whose group vanished (NOGROUP is not retried forever)', async () => {
    const cache = await open();
    const stream = `nogroup-${randomUUID().slice(0, 8)}`;
    const seen: string[] = [];
    const consumer = await startConsumer({
      db, cache, schema: 'evt', stream, group: 'g-nogroup', log, blockMs: 50, claimIdleMs: 200,
      async handle(e) { seen.push(e.id); },
    });
    try {
      const before = randomUUID();
      await cache.xAdd(stream, { id: before, type: 't', occurredAt: new Date().toISOString(), payload: '{}' });
      await eventually(async () => seen.includes(before));
      await loseEverything(cache);
      const after = randomUUID();
      await cache.xAdd(stream, { id: after, type: 't', occurredAt: new Date().toISOString(), payload: '{}' });
      await eventually(async () => seen.includes(after), 10_000);
      await eventually(async () => consumer.healthy!(), 5000);
    } finally {
      await consumer.stop();
      await cache.close();
    }
  }, 30_000);
});

describe('events.faults: health', () => {
  test.each(caches)('on %s: a consumer that cannot read its stream reports unhealthy until it can again', async (_name, open) => {
    const cache = await open();
    const stream = `wrongtype-${randomUUID().slice(0, 8)}`;
    const seen: string[] = [];
    const consumer = await startConsumer({
      db, cache, schema: 'evt', stream, group: 'g-health', log, blockMs: 50, claimIdleMs: 200,
      async handle(e) { seen.push(e.id); },
    });
    try {
      expect(consumer.healthy!()).toBe(true);
      // The stream's key replaced by a plain value: reading and recreating the group both fail.
      await cache.del(stream);
      await cache.set(stream, 'not a stream');
      await eventually(async () => !consumer.healthy!(), 10_000);
      await cache.del(stream);
      await eventually(async () => consumer.healthy!(), 10_000);
      const id = randomUUID();
      await cache.xAdd(stream, { id, type: 't', occurredAt: new Date().toISOString(), payload: '{}' });
      await eventually(async () => seen.includes(id), 10_000);
    } finally {
      await consumer.stop();
      await cache.close();
    }
  }, 30_000);
});
