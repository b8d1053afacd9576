import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { testCache, testDb, type TestDb } from '../test/support/infra.ts';
import { silentLogger } from './log.ts';
import { systemClock } from './clock.ts';
import { migrate } from './migrate.ts';
import { EVENT_TABLES_SQL, enqueueEvent, startConsumer, startOutboxRelay, type DomainEvent } from './events.ts';
import type { Cache } from './cache.ts';

let db: TestDb;
let cache: Cache;
const log = silentLogger();

beforeAll(async () => {
  db = await testDb();
  cache = await testCache();
  await migrate(db, 'evt', [
    { id: '001_events', sql: EVENT_TABLES_SQL },
    { id: '002_effects', sql: 'create table effects (event_id uuid primary key, n int not null)' },
  ]);
});
afterAll(async () => {
  await cache.close();
  await db.destroy();
});

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met in time');
}

describe('events.outbox', () => {
  test('a rolled-back transaction publishes nothing; a committed one publishes once', async () => {
    await expect(db.tx(async (q) => {
      await enqueueEvent(q, 'evt', 'rb', 'thing.happened', { n: 1 }, new Date());
      throw new Error('crash before commit');
    })).rejects.toThrow('crash before commit');
    await db.tx((q) => enqueueEvent(q, 'evt', 'rb', 'thing.happened', { n: 2 }, new Date()));
    const relay = startOutboxRelay({ db, cache, schema: 'evt', log, clock: systemClock, intervalMs: 50 });
    await relay.flush();
    await relay.stop();
    expect(await cache.xLen('rb')).toBe(1);
    const { rows } = await db.query<{ n: number }>('select count(*)::int as n from evt.outbox where published_at is null');
    expect(rows[0]!.n).toBe(0);
  });
});

describe('events.consumer', () => {
  test('a redelivered event has its effect once', async () => {
    const seen: DomainEvent[] = [];
    const consumer = await startConsumer({
      db, cache, schema: 'evt', stream: 'dup', group: 'g1', log, blockMs: 100,
      async handle(e, q) {
        seen.push(e);
        await q.query('insert into evt.effects (event_id, n) values ($1, $2)', [e.id, (e.payload as { n: number }).n]);
      },
    });
    const fields = { id: '6f1c0f5e-1111-4111-8111-111111111111', type: 't', occurredAt: new Date().toISOString(), payload: '{"n":7}' };
    await cache.xAdd('dup', fields);
    await cache.xAdd('dup', fields); // at-least-once delivery: the relay may publish twice
    await waitFor(async () => (await db.query('select 1 from evt.effects where event_id = $1', [fields.id])).rowCount === 1);
    await new Promise((r) => setTimeout(r, 200));
    await consumer.stop();
    expect(seen).toHaveLength(1);
    expect((await db.query('select * from evt.effects')).rowCount).toBe(1);
  });

  test('a handler failure leaves the event pending; it is retried and applied once', async () => {
    let attempts = 0;
    const consumer = await startConsumer({
      db, cache, schema: 'evt', stream: 'retry', group: 'g2', log, blockMs: 50, claimIdleMs: 100,
      async handle(e, q) {
        attempts++;
        await q.query('insert into evt.effects (event_id, n) values ($1, 1)', [e.id]);
        if (attempts === 1) throw new Error('transient failure after a write');
      },
    });
    const id = '6f1c0f5e-2222-4222-8222-222222222222';
    await cache.xAdd('retry', { id, type: 't', occurredAt: new Date().toISOString(), payload: '{}' });
    await waitFor(async () => (await db.query('select 1 from evt.effects where event_id = $1', [id])).rowCount === 1, 15000);
    await consumer.stop();
    expect(attempts).toBe(2);
  });
});

describe('migrate', () => {
  test('applies each migration once, even when started twice at the same time', async () => {
    const ms = [{ id: '001', sql: 'create table t1 (x int)' }, { id: '002', sql: 'insert into t1 values (1)' }];
    const [a, b] = await Promise.all([migrate(db, 'mig', ms), migrate(db, 'mig', ms)]);
    expect([...a, ...b].sort()).toEqual(['001', '002']);
    expect((await db.query('select * from mig.t1')).rowCount).toBe(1);
    expect(await migrate(db, 'mig', ms)).toEqual([]);
  });
  test('a failing migration leaves nothing half-applied', async () => {
    await expect(migrate(db, 'mig2', [{ id: '001', sql: 'create table ok (x int); select * from missing_table' }])).rejects.toThrow();
    const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from information_schema.tables where table_schema = 'mig2' and table_name = 'ok'`);
    expect(rows[0]!.n).toBe(0);
  });
});
