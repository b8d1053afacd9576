import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { testCache, testDb, type TestDb } from '../test/support/infra.ts';
import { silentLogger } from './log.ts';
import { eventually } from '../test/support/eventually.ts';
import { migrate } from './migrate.ts';
import { EVENT_TABLES_SQL, startConsumer } from './events.ts';
import { runEvents } from './events-cli.ts';
import type { Cache } from './cache.ts';
import type { CliIo } from './cli.ts';

let db: TestDb;
let cache: Cache;

beforeAll(async () => {
  db = await testDb();
  cache = await testCache();
  await migrate(db, 'evc', [
    { id: '001_events', sql: EVENT_TABLES_SQL },
    { id: '002_effects', sql: 'create table effects (event_id uuid primary key)' },
  ]);
});
afterAll(async () => {
  await cache.close();
  await db.destroy();
});

function io(env: Record<string, string> = {}) {
  const out: string[] = [], err: string[] = [];
  const value: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env, cwd: process.cwd() };
  return { io: value, out, err };
}

const until = async (check: () => Promise<boolean>): Promise<void> => { await eventually(check, 10_000, 20); };

describe('yiwang events', () => {
  test('lists a set-aside event, and replays it once the cause is fixed: applied once, the dead-letter stream emptied', async () => {
    let broken = true;
    const consumer = await startConsumer({
      db, cache, log: silentLogger(), schema: 'evc', stream: 'orders', group: 'billing', blockMs: 50, claimIdleMs: 40, maxAttempts: 2,
      async handle(e, q) {
        if (broken) throw new Error('tariff table missing');
        await q.query('insert into evc.effects (event_id) values ($1)', [e.id]);
      },
    });
    const id = randomUUID();
    await cache.xAdd('orders', { id, type: 'order.placed', occurredAt: new Date().toISOString(), payload: '{"caseId":"c-1"}' });
    await until(async () => (await cache.xLen('orders.dead')) === 1);

    const listed = io();
    expect(await runEvents(['dead', 'orders', '--json'], listed.io, cache)).toBe(0);
    const rows = JSON.parse(listed.out.join('\n')) as Array<Record<string, unknown>>;
    expect(rows).toEqual([expect.objectContaining({ id, type: 'order.placed', group: 'billing', attempts: 2, error: 'tariff table missing' })]);

    const none = io();
    expect(await runEvents(['replay', 'orders', '--id', randomUUID()], none.io, cache)).toBe(1);
    expect(await cache.xLen('orders.dead')).toBe(1);

    broken = false;
    const replay = io();
    expect(await runEvents(['replay', 'orders', '--id', id], replay.io, cache)).toBe(0);
    expect(replay.out.join('\n')).toContain(id);
    await until(async () => (await db.query('select 1 from evc.effects where event_id = $1', [id])).rowCount === 1);
    expect(await cache.xLen('orders.dead')).toBe(0);
    // Replaying the same event again (say, by mistake) has no second effect: the ledger has it.
    await cache.xAdd('orders', { id, type: 'order.placed', occurredAt: new Date().toISOString(), payload: '{"caseId":"c-1"}' });
    await until(async () => (await db.query('select 1 from evc.processed_events where event_id = $1', [id])).rowCount === 1);
    await new Promise((r) => setTimeout(r, 150));
    await consumer.stop();
    expect((await db.query('select 1 from evc.effects')).rowCount).toBe(1);
  });

  test.each([
    ['no action', []],
    ['an unknown action', ['purge', 'orders']],
    ['replay without --id or --all', ['replay', 'orders']],
    ['a stream name with odd characters', ['dead', '../etc']],
    ['an unknown option', ['dead', 'orders', '--force']],
  ])('%s is a usage error (exit 2)', async (_what, argv) => {
    const r = io();
    expect(await runEvents(argv, r.io, cache)).toBe(2);
    expect(r.err.join('\n')).toMatch(/Usage|--id|Unknown option/);
  });

  test('without REDIS_URL it says the embedded substitute cannot be reached (exit 2)', async () => {
    const r = io({});
    expect(await runEvents(['dead', 'orders'], r.io)).toBe(2);
    expect(r.err.join('\n')).toContain('REDIS_URL');
  });
});
