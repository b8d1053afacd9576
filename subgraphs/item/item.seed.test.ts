import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../kernel/config.ts';
import { internalKey } from '../../kernel/internal-auth.ts';
import { silentLogger } from '../../kernel/log.ts';
import { systemClock } from '../../kernel/clock.ts';
import { DEMO_AGENCIES, DEMO_ITEMS } from '../../kernel/demo.ts';
import type { AppError } from '../../kernel/errors.ts';
import type { Deps } from '../../kernel/service.ts';
import { testCache, testDb, TEST_SECRET, type TestDb } from '../../test/support/infra.ts';
import { createItemService, upsertAgency, upsertItem, type ItemService } from './service.ts';

let db: TestDb;
let cache: Awaited<ReturnType<typeof testCache>>;
let deps: Deps;
let svc: ItemService;

const outboxCount = async () => (await db.query<{ n: number }>('select count(*)::int as n from item.outbox')).rows[0]!.n;
const itemCount = async () => (await db.query<{ n: number }>('select count(*)::int as n from item.items')).rows[0]!.n;

/** The `item.upserted` payload the event contract requires for a demo item. */
const expectedPayload = (i: typeof DEMO_ITEMS[number], agencyName?: string) => ({
  id: i.id, name: i.name, agencyCode: i.agencyCode,
  agencyName: agencyName ?? DEMO_AGENCIES.find((a) => a.code === i.agencyCode)!.name,
  typeCode: i.typeCode, caseType: i.caseType, legalTimeLimit: i.legalTimeLimit, promisedTimeLimit: i.promisedTimeLimit,
  licenceType: i.licenceType,
  // The materials, for the case service to know which a licence may replace (R-LI-2).
  materials: i.materials.map((m) => ({ code: m.code, name: m.name, required: m.required, replaceableByLicenceType: m.replaceableByLicenceType ?? null })),
});

beforeAll(async () => {
  db = await testDb();
  cache = await testCache();
  deps = {
    config: loadConfig({}), secrets: { internalSecret: TEST_SECRET, keyPassphrase: TEST_SECRET, cookieKeys: [TEST_SECRET] },
    internalKey: internalKey(TEST_SECRET), db, cache, clock: systemClock, log: silentLogger(),
  };
  svc = await createItemService(deps, { port: 0, seed: true });
  await svc.flushOutbox();
});

afterAll(async () => {
  await svc?.close();
  await cache?.close();
  await db?.destroy();
});

describe('item.seed', () => {
  test('the first seed announces each demo item once on the items stream, with the contract payload', async () => {
    expect(await outboxCount()).toBe(DEMO_ITEMS.length);
    expect(await cache.xLen('items')).toBe(DEMO_ITEMS.length);
    const { rows } = await db.query<{ type: string; stream: string; payload: unknown; published: boolean }>(
      'select type, stream, payload, published_at is not null as published from item.outbox');
    expect(rows.every((r) => r.type === 'item.upserted' && r.stream === 'items' && r.published)).toBe(true);
    const payloads = rows.map((r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as { id: string });
    for (const i of DEMO_ITEMS) expect(payloads.find((p) => p.id === i.id)).toEqual(expectedPayload(i));
  });

  test('seeding again (a second start) changes nothing and emits no event', async () => {
    const again = await createItemService(deps, { port: 0, seed: true });
    try {
      expect(await again.flushOutbox()).toBe(0);
    } finally {
      await again.close();
    }
    await svc.flushOutbox();
    expect(await outboxCount()).toBe(DEMO_ITEMS.length);
    expect(await cache.xLen('items')).toBe(DEMO_ITEMS.length);
    expect(await itemCount()).toBe(DEMO_ITEMS.length);
  });
});

describe('item.upsert', () => {
  const item = DEMO_ITEMS[2]!;

  test('unchanged data is a no-op; a change is stored and announced once', async () => {
    const before = await outboxCount();
    expect(await db.tx((q) => upsertItem(q, item, new Date()))).toBe('unchanged');
    expect(await outboxCount()).toBe(before);

    const changed = { ...item, promisedTimeLimit: 1, legalTimeLimit: 2 };
    expect(await db.tx((q) => upsertItem(q, changed, new Date()))).toBe('updated');
    expect(await outboxCount()).toBe(before + 1);
    const streamBefore = await cache.xLen('items');
    expect(await svc.flushOutbox()).toBe(1);
    expect(await cache.xLen('items')).toBe(streamBefore + 1);
    const { rows } = await db.query<{ payload: unknown }>('select payload from item.outbox order by created_at desc limit 1');
    const p = rows[0]!.payload;
    expect(typeof p === 'string' ? JSON.parse(p) : p).toEqual(expectedPayload(changed));
    await db.tx((q) => upsertItem(q, item, new Date())); // restore
  });

  test('renaming an agency re-announces its items with the new agency name', async () => {
    const agency = DEMO_AGENCIES[2];
    const before = await outboxCount();
    expect(await db.tx((q) => upsertAgency(q, { ...agency, name: '杭州市人社局' }, new Date()))).toBe('updated');
    const { rows } = await db.query<{ payload: unknown }>('select payload from item.outbox order by created_at desc limit 1');
    expect(await outboxCount()).toBe(before + DEMO_ITEMS.filter((i) => i.agencyCode === agency.code).length);
    const p = rows[0]!.payload;
    expect((typeof p === 'string' ? JSON.parse(p) : p) as { agencyName: string }).toMatchObject({ agencyName: '杭州市人社局' });
    expect(await db.tx((q) => upsertAgency(q, { ...agency, level: 4 }, new Date()))).toBe('updated');
    expect(await db.tx((q) => upsertAgency(q, agency, new Date()))).toBe('updated');
    expect(await db.tx((q) => upsertAgency(q, agency, new Date()))).toBe('unchanged');
  });

  test.each([
    ['an unknown agency', { agencyCode: '91350100M000100Y43' }, 'agencyCode'],
    ['an unknown type code', { typeCode: '11' }, 'typeCode'],
    ['an online depth of 6', { onlineDepth: 6 }, 'onlineDepth'],
    ['a promised limit above the legal one', { promisedTimeLimit: 30 }, 'promisedTimeLimit'],
    ['an implementation code used by another item', { implementationCode: DEMO_ITEMS[0]!.implementationCode }, 'implementationCode'],
  ])('%s is refused with BAD_INPUT and nothing is stored', async (_what, change, field) => {
    const before = { outbox: await outboxCount(), items: await itemCount() };
    const bad = { ...DEMO_ITEMS[1]!, id: 'b0f7c1f2-0001-4000-8000-0000000000cc', implementationCode: '11330100MB0000002W3000107002999', ...change };
    const err = await db.tx((q) => upsertItem(q, bad, new Date())).catch((e: unknown) => e as AppError);
    expect(err).toMatchObject({ code: 'BAD_INPUT' });
    expect(Object.keys((err as AppError).details ?? {})).toContain(field);
    expect({ outbox: await outboxCount(), items: await itemCount() }).toEqual(before);
  });

  test('a rolled-back transaction leaves neither the item nor its event', async () => {
    const before = { outbox: await outboxCount(), items: await itemCount() };
    const fresh = { ...DEMO_ITEMS[1]!, id: 'b0f7c1f2-0001-4000-8000-0000000000dd', implementationCode: '11330100MB0000002W3000107002998' };
    await expect(db.tx(async (q) => {
      await upsertItem(q, fresh, new Date());
      throw new Error('abort');
    })).rejects.toThrow('abort');
    expect({ outbox: await outboxCount(), items: await itemCount() }).toEqual(before);
  });
});
