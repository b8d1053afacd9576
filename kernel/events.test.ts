import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { testCache, testDb, type TestDb } from '../test/support/infra.ts';
import { silentLogger } from './log.ts';
import { eventually } from '../test/support/eventually.ts';
import { systemClock } from './clock.ts';
import { migrate } from './migrate.ts';
import { randomUUID } from 'node:crypto';
import { EVENT_TABLES_SQL, deadLetterStream, enqueueEvent, failedForNow, startConsumer, startOutboxRelay, type DomainEvent } from './events.ts';
import { AppError } from './errors.ts';
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

const waitFor = async (check: () => Promise<boolean>, ms = 5000): Promise<void> => { await eventually(check, ms, 20); };

describe('events.outbox (R-PL-2: no event lost or invented)', () => {
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

describe('events.consumer concurrency', () => {
  const publish = (stream: string, type: string, payload: Record<string, unknown>, id = randomUUID()) =>
    cache.xAdd(stream, { id, type, occurredAt: new Date().toISOString(), payload: JSON.stringify(payload) }).then(() => id);

  test('events of different cases overlap; those of one case keep their stream order', async () => {
    let inFlight = 0, most = 0;
    const order = new Map<string, number[]>();
    const gate = Promise.withResolvers<void>();
    const consumer = await startConsumer({
      db, cache, schema: 'evt', stream: 'conc', group: 'g-conc', log, blockMs: 50, concurrency: 4,
      // Measured in prepare (outside the transaction): on PGlite, one connection, the
      // transactions themselves take turns.
      async prepare() {
        inFlight++; most = Math.max(most, inFlight);
        if (most >= 4) gate.resolve();
        await Promise.race([gate.promise, new Promise((r) => setTimeout(r, 300))]);
        inFlight--;
      },
      async handle(e) {
        const p = e.payload as { caseId: string; n: number };
        order.set(p.caseId, [...(order.get(p.caseId) ?? []), p.n]);
      },
    });
    const cases = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
    for (let n = 0; n < 3; n++) for (const caseId of cases) await publish('conc', 't', { caseId, n });
    await waitFor(async () => cases.every((c) => order.get(c)?.length === 3), 15000);
    await consumer.stop();
    expect(most).toBe(4); // never more than asked, and really side by side
    for (const c of cases) expect(order.get(c)).toEqual([0, 1, 2]);
  });

  test('events the consumer does not want are acknowledged without a ledger row or a transaction', async () => {
    const handled: string[] = [];
    const consumer = await startConsumer({
      db, cache, schema: 'evt', stream: 'wants', group: 'g-wants', log, blockMs: 50, concurrency: 2,
      wants: (e) => e.type === 'wanted',
      async handle(e) { handled.push(e.id); },
    });
    const skipped = await publish('wants', 'other', { caseId: 'x' });
    const wanted = await publish('wants', 'wanted', { caseId: 'x' });
    await waitFor(async () => handled.includes(wanted));
    await consumer.stop();
    expect(handled).toEqual([wanted]);
    const ledger = await db.query('select event_id from evt.processed_events where consumer = $1', ['g-wants']);
    expect(ledger.rows).toEqual([{ event_id: wanted }]);
    expect(skipped).not.toBe(wanted);
  });

  test('an event that keeps failing is set aside on the dead-letter stream after maxAttempts; the next events go on', async () => {
    const consumer = await startConsumer({
      db, cache, schema: 'evt', stream: 'poison', group: 'g-poison', log, blockMs: 50, claimIdleMs: 60, maxAttempts: 3,
      async handle(e, q) {
        if (e.type === 'bad') throw new Error('cannot ever work');
        await q.query('insert into evt.effects (event_id, n) values ($1, 3)', [e.id]);
      },
    });
    const bad = await publish('poison', 'bad', { caseId: 'p1' });
    const good = await publish('poison', 'good', { caseId: 'p2' });
    await waitFor(async () => (await db.query('select 1 from evt.effects where event_id = $1', [good])).rowCount === 1);
    await cache.xGroupCreate(deadLetterStream('poison'), 'inspect');
    let dead: Awaited<ReturnType<Cache['xReadGroup']>> = [];
    await waitFor(async () => (dead = await cache.xReadGroup(deadLetterStream('poison'), 'inspect', 'me', { count: 10, blockMs: 10 })).length > 0, 15000);
    await consumer.stop();
    expect(dead).toHaveLength(1);
    expect(dead[0]!.fields).toMatchObject({ id: bad, type: 'bad', group: 'g-poison', attempts: '3', error: 'cannot ever work' });
    // Set aside, not processed: no ledger row, so a replay after a fix runs it.
    expect((await db.query('select 1 from evt.processed_events where event_id = $1', [bad])).rowCount).toBe(0);
  });
});

describe('events.consumer failures (R-PL-2: nothing lost)', () => {
  const publish = (stream: string, type: string, payload: Record<string, unknown>, id = randomUUID()) =>
    cache.xAdd(stream, { id, type, occurredAt: new Date().toISOString(), payload: JSON.stringify(payload) }).then(() => id);

  test('a "not yet" failure (a service down, a seal not installed) waits without counting toward maxAttempts', async () => {
    let tries = 0;
    const consumer = await startConsumer({
      db, cache, schema: 'evt', stream: 'notyet', group: 'g-notyet', log, blockMs: 50, claimIdleMs: 40, maxAttempts: 2,
      async handle(e, q) {
        if (++tries <= 4) throw new AppError('SERVICE_UNAVAILABLE', 'the IdP is down');
        await q.query('insert into evt.effects (event_id, n) values ($1, 4)', [e.id]);
      },
    });
    const id = await publish('notyet', 't', { caseId: 'n1' });
    await waitFor(async () => (await db.query('select 1 from evt.effects where event_id = $1', [id])).rowCount === 1, 15000);
    await consumer.stop();
    expect(tries).toBe(5);
    expect(await cache.xLen(deadLetterStream('notyet'))).toBe(0);
  });

  test('a failed event holds back the later events of its case, across reads, until it is handled', async () => {
    const handled: string[] = [];
    let failOnce = true;
    const consumer = await startConsumer({
      db, cache, schema: 'evt', stream: 'held', group: 'g-held', log, blockMs: 50, claimIdleMs: 150, concurrency: 4,
      async handle(e) {
        const p = e.payload as { caseId: string; step: string };
        if (p.step === 'accepted' && failOnce) { failOnce = false; throw new Error('SMS gateway refused'); }
        handled.push(`${p.caseId}:${p.step}`);
      },
    });
    await publish('held', 't', { caseId: 'k1', step: 'accepted' });
    await waitFor(async () => !failOnce);
    // Read in a later batch than the failed one: must still come after it.
    await publish('held', 't', { caseId: 'k1', step: 'completed' });
    await publish('held', 't', { caseId: 'k2', step: 'completed' });
    await waitFor(async () => handled.length === 3, 15000);
    await consumer.stop();
    expect(handled.indexOf('k2:completed')).toBe(0); // another case is not held back
    expect(handled.filter((h) => h.startsWith('k1'))).toEqual(['k1:accepted', 'k1:completed']);
  });

  test('failedForNow: the unavailable service and network errors wait; other failures count', () => {
    expect(failedForNow(new AppError('SERVICE_UNAVAILABLE', 'x'))).toBe(true);
    expect(failedForNow(new AppError('SEAL_NOT_FOUND', 'x'))).toBe(false);
    expect(failedForNow(new AppError('SEAL_NOT_FOUND', 'x'), ['SEAL_NOT_FOUND'])).toBe(true);
    expect(failedForNow(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }))).toBe(true);
    expect(failedForNow(new Error('duplicate key value violates unique constraint'))).toBe(false);
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
