/**
 * db.faults: PostgreSQL ending connections under the platform's feet, on a private cluster (see
 * test/support/pg-cluster.ts). pg_terminate_backend stands in for a restart or an administrator:
 * it ends a connection in the middle of an open transaction. Nothing may escape as an unhandled
 * 'error' event (which ends a Node process), the transaction must roll back and say
 * SERVICE_UNAVAILABLE, the pool must serve the next query, the outbox relay's work (its
 * transaction waits on Redis) must be redone rather than lost, and HTTP and GraphQL callers must
 * get a retryable answer.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { parse } from 'graphql';
import pg from 'pg';
import { openDb, type Db } from './db.ts';
import { migrate } from './migrate.ts';
import { silentLogger } from './log.ts';
import { systemClock } from './clock.ts';
import { createHttpApp, listen, type Listening } from './http.ts';
import { mountSubgraph } from './subgraph.ts';
import { internalKey, IDENTITY_HEADER, operationHash, signIdentity } from './internal-auth.ts';
import { EVENT_TABLES_SQL, enqueueEvent, startConsumer, startOutboxRelay } from './events.ts';
import type { Cache } from './cache.ts';
import { startPgCluster, type PgCluster } from '../test/support/pg-cluster.ts';
import { testCache, TEST_SECRET } from '../test/support/infra.ts';
import { eventually } from '../test/support/eventually.ts';
import { ANONYMOUS } from '../test/support/subgraph.ts';

let cluster: PgCluster;
let url: string;
let db: Db;
let admin: pg.Client;
const uncaught: unknown[] = [];
const onUncaught = (e: unknown) => { uncaught.push(e); };

beforeAll(async () => {
  cluster = await startPgCluster();
  url = await cluster.createDatabase(`yw_faults_${randomBytes(4).toString('hex')}`);
  db = await openDb({ url, poolSize: 4 });
  admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await migrate(db, 'evt', [
    { id: '001_events', sql: EVENT_TABLES_SQL },
    { id: '002_effects', sql: 'create table effects (event_id uuid primary key, n int not null); create table notes (id serial primary key, text text not null)' },
  ]);
  // An 'error' event nobody listens to is thrown from the socket's callback: it would end a
  // service. Collect such throws here so that each test can say it saw none.
  process.on('uncaughtException', onUncaught);
}, 60_000);
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await db?.close().catch(() => undefined);
  await admin?.end().catch(() => undefined);
  await cluster?.destroy();
});

/** End every connection of the test database but the admin's own (a restart, an administrator), waiting until each backend is gone. */
const terminateAll = async (): Promise<number> => {
  const dbName = new URL(url).pathname.slice(1);
  const { rows } = await admin.query<{ n: number }>(
    'select count(pg_terminate_backend(pid, 5000))::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [dbName]);
  return rows[0]!.n;
};
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Once a `pg_sleep` of the test database is running (however loaded the machine), end every connection. */
const terminateWhileSleeping = async (): Promise<void> => {
  const dbName = new URL(url).pathname.slice(1);
  await eventually(async () => (await admin.query(
    "select 1 from pg_stat_activity where datname = $1 and state = 'active' and query like '%pg_sleep%' and pid <> pg_backend_pid()", [dbName])).rowCount! > 0, 10_000);
  await terminateAll();
};

describe('db.faults: a connection ended inside a transaction', () => {
  test('no unhandled error; the transaction rolls back with SERVICE_UNAVAILABLE; the pool serves the next query', async () => {
    const failed = db.tx(async (q) => {
      await q.query("insert into evt.notes (text) values ('half-done')");
      expect(await terminateAll()).toBeGreaterThan(0);
      await pause(300); // the server's FATAL arrives while the client is checked out and idle
      await q.query("insert into evt.notes (text) values ('second half')");
    });
    await expect(failed).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(uncaught).toEqual([]);
    expect((await db.query('select text from evt.notes')).rows).toEqual([]); // nothing half-done
    await db.tx((q) => q.query("insert into evt.notes (text) values ('after')"));
    expect((await db.query('select text from evt.notes')).rows).toEqual([{ text: 'after' }]);
  });

  test('a query cut off mid-statement fails as SERVICE_UNAVAILABLE, not as an unknown error', async () => {
    const slow = db.query('select pg_sleep(30)');
    await terminateWhileSleeping();
    await expect(slow).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(uncaught).toEqual([]);
    expect((await db.query<{ ok: number }>('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
  });

  test('the outbox relay\'s transaction ended while it waits on Redis: the relay survives, publishes again, each event takes effect once', async () => {
    const cache = await testCache();
    let first = true;
    // The relay publishes inside its transaction; end that transaction's connection while the
    // relay is waiting on Redis, as a restart at that moment would.
    const slowCache = Object.assign(Object.create(cache) as Cache, {
      async xAdd(stream: string, fields: Record<string, string>) {
        if (first) {
          first = false;
          await terminateAll();
          await pause(300);
        }
        return cache.xAdd(stream, fields);
      },
    });
    const handled = new Map<string, number>();
    const consumer = await startConsumer({
      db, cache, schema: 'evt', stream: 'relayed', group: 'g-relayed', log: silentLogger(), blockMs: 50, claimIdleMs: 200,
      async handle(e, q) {
        handled.set(e.id, (handled.get(e.id) ?? 0) + 1);
        await q.query('insert into evt.effects (event_id, n) values ($1, 1)', [e.id]);
      },
    });
    const ids: string[] = [];
    await db.tx(async (q) => { for (let n = 0; n < 3; n++) ids.push(await enqueueEvent(q, 'evt', 'relayed', 'thing.happened', { n }, new Date())); });
    const relay = startOutboxRelay({ db, cache: slowCache, schema: 'evt', log: silentLogger(), clock: systemClock, intervalMs: 50, ackCheckMs: 50 });
    try {
      // (The test's own queries may be cut off too while the fault happens: they just ask again.)
      const count = (sql: string, params: unknown[] = []) => db.query(sql, params).then((r) => r.rowCount, () => -1);
      await eventually(async () => (await count('select 1 from evt.effects where event_id = any($1::uuid[])', [ids])) === 3, 15_000);
      await eventually(async () => relay.healthy() && (await count('select 1 from evt.outbox where published_at is null')) === 0, 10_000);
      expect(uncaught).toEqual([]);
      expect(first).toBe(false); // the fault really happened
      // Published more than once (the first transaction's XADDs were not recorded), handled once.
      expect(await cache.xLen('relayed')).toBeGreaterThan(3);
      expect(ids.map((id) => handled.get(id))).toEqual([1, 1, 1]);
    } finally {
      await relay.stop();
      await consumer.stop();
      await cache.close();
    }
  });
});

describe('db.faults: what callers see', () => {
  let server: Listening;
  const key = internalKey(TEST_SECRET);
  beforeAll(async () => {
    const log = silentLogger();
    const { app, router } = createHttpApp({ name: 'faults', log, health: { db: async () => (await db.query('select 1')).rowCount === 1 } });
    router.post('/slow', async (ctx) => {
      await db.tx((q) => q.query('select pg_sleep(30)'));
      ctx.body = { ok: true };
    });
    await mountSubgraph(router, {
      name: 'faults', key, clock: systemClock, log,
      typeDefs: parse('type Query { slow: Boolean }'),
      resolvers: { Query: { slow: async () => { await db.query('select pg_sleep(30)'); return true; } } },
    });
    app.use(router.routes()).use(router.allowedMethods());
    server = await listen(app, 0);
  });
  afterAll(async () => { await server?.close(); });

  test('an HTTP request cut off by the database gets 503 SERVICE_UNAVAILABLE with Retry-After, not INTERNAL', async () => {
    const res = fetch(`${server.url}/slow`, { method: 'POST' });
    await terminateWhileSleeping();
    const r = await res;
    expect(r.status).toBe(503);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await r.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(uncaught).toEqual([]);
  });

  test('a GraphQL operation cut off by the database: extensions.code SERVICE_UNAVAILABLE and Retry-After', async () => {
    const query = '{ slow }';
    const res = fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: await signIdentity(key, ANONYMOUS, operationHash(query, {})) },
      body: JSON.stringify({ query, variables: {} }),
    });
    await terminateWhileSleeping();
    const r = await res;
    const body = await r.json() as { errors?: Array<{ message: string; extensions?: { code?: string } }> };
    expect(body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(body.errors?.[0]?.message).not.toMatch(/terminat|postgres/i); // the cause stays in the log
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(uncaught).toEqual([]);
  });
});
