import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../kernel/config.ts';
import { internalKey } from '../../kernel/internal-auth.ts';
import { silentLogger } from '../../kernel/log.ts';
import { systemClock } from '../../kernel/clock.ts';
import { DEMO_AGENCIES, DEMO_ITEMS } from '../../kernel/demo.ts';
import type { Deps } from '../../kernel/service.ts';
import { testCache, testDb, TEST_SECRET, type TestDb } from '../../test/support/infra.ts';
import { ANONYMOUS, PERSON, callSubgraph, entitiesQuery } from '../../test/support/subgraph.ts';
import { createItemService, upsertItem, type ItemService } from './service.ts';

const key = internalKey(TEST_SECRET);
let db: TestDb;
let cache: Awaited<ReturnType<typeof testCache>>;
let svc: ItemService;

const [food, , flexible, foodProduction] = DEMO_ITEMS as [typeof DEMO_ITEMS[number], typeof DEMO_ITEMS[number], typeof DEMO_ITEMS[number], typeof DEMO_ITEMS[number]];
const hangzhouMarket = DEMO_AGENCIES[1];
/** An extra item whose name holds LIKE metacharacters, to prove they match literally. */
const PERCENT_ITEM = { ...flexible, id: 'b0f7c1f2-0001-4000-8000-0000000000aa', name: '100%网办测试事项', basicCode: '099999000001', implementationCode: '11330100MB000000303002018003999' };
/** An extra item that contains a food item's full name without starting with it (ranks after prefix matches). */
const CONTAINS_ITEM = { ...flexible, id: 'b0f7c1f2-0001-4000-8000-0000000000ab', name: '新办食品经营许可（新办）指引', basicCode: '099999000002', implementationCode: '11330100MB000000303002018003998' };

const search = (keyword: string | null, first?: number) => callSubgraph<{ items: Array<{ id: string; name: string }> }>(
  svc.url, key, ANONYMOUS, 'query ($k: String, $f: Int) { items(keyword: $k, first: $f) { id name } }',
  first === undefined ? { k: keyword } : { k: keyword, f: first });

beforeAll(async () => {
  db = await testDb();
  cache = await testCache();
  const deps: Deps = {
    config: loadConfig({}), secrets: { internalSecret: TEST_SECRET, keyPassphrase: TEST_SECRET, cookieKeys: [TEST_SECRET] },
    internalKey: key, db, cache, clock: systemClock, log: silentLogger(),
  };
  svc = await createItemService(deps, { port: 0, seed: true });
  await db.tx(async (q) => {
    await upsertItem(q, PERCENT_ITEM, new Date());
    await upsertItem(q, CONTAINS_ITEM, new Date());
  });
});

afterAll(async () => {
  await svc?.close();
  await cache?.close();
  await db?.destroy();
});

describe('item.search', () => {
  test('a keyword in the name finds every item containing it, anonymous callers allowed (R-ID-13)', async () => {
    const r = await search('食品');
    expect(r.errors).toBeUndefined();
    expect(r.data?.items.map((i) => i.id).sort()).toEqual([food.id, foodProduction.id, CONTAINS_ITEM.id].sort());
  });

  test('an exact name ranks first, then prefix matches, then the rest by name', async () => {
    const r = await search('食品经营许可（新办）');
    expect(r.data?.items.map((i) => i.name)).toEqual(['食品经营许可（新办）', CONTAINS_ITEM.name]);
    // Two prefix matches by name, then the containing one although 新 sorts before 食 by name alone.
    const prefix = await search('食品');
    expect(prefix.data?.items.map((i) => i.name)).toEqual(['食品生产许可（省级）', '食品经营许可（新办）', CONTAINS_ITEM.name]);
    expect((await search('食品', 1)).data?.items.map((i) => i.name)).toEqual(['食品生产许可（省级）']);
  });

  test('a basic code or part of an implementation code finds the item, case-insensitively', async () => {
    expect((await search('000107002000')).data?.items.map((i) => i.name)).toEqual(['个体工商户设立登记']);
    expect((await search('mb0000001l')).data?.items.map((i) => i.id)).toEqual([foodProduction.id]);
  });

  test('no keyword (null, empty or blank) lists every item by name, limited by first', async () => {
    const all = await search(null);
    expect(all.data?.items).toHaveLength(DEMO_ITEMS.length + 2);
    const names = all.data!.items.map((i) => i.name);
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect((await search('   ')).data?.items).toHaveLength(DEMO_ITEMS.length + 2);
    expect((await search('', 2)).data?.items).toHaveLength(2);
  });

  test('LIKE wildcard characters in the keyword match literally', async () => {
    expect((await search('%')).data?.items.map((i) => i.id)).toEqual([PERCENT_ITEM.id]);
    expect((await search('100%网')).data?.items.map((i) => i.id)).toEqual([PERCENT_ITEM.id]);
    expect((await search('_')).data?.items).toEqual([]);
    expect((await search('\\')).data?.items).toEqual([]);
    expect((await search('食_经营')).data?.items).toEqual([]);
  });

  test.each([0, -1, 101])('first = %d is refused with BAD_INPUT', async (first) => {
    const r = await search('食品', first);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_INPUT');
    expect(r.data?.items ?? null).toBeNull();
  });

  test('first = 1 and first = 100 are the bounds', async () => {
    expect((await search(null, 1)).data?.items).toHaveLength(1);
    expect((await search(null, 100)).data?.items).toHaveLength(DEMO_ITEMS.length + 2);
  });

  test('an overlong keyword is refused with BAD_INPUT', async () => {
    const r = await search('食'.repeat(101));
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_INPUT');
  });
});

describe('item.item', () => {
  test('every field of an item, with its GB/T 39046 type name, agency, materials and licence type', async () => {
    const r = await callSubgraph<{ item: Record<string, unknown> }>(svc.url, key, PERSON, `query ($id: ID!) { item(id: $id) {
      id name basicCode implementationCode typeCode typeName level caseType legalTimeLimit promisedTimeLimit onlineDepth visits
      agency { code name regionCode level } materials { code name required paperCopies replaceableByLicenceType } licenceType { code name } } }`,
    { id: food.id });
    expect(r.errors).toBeUndefined();
    expect(r.data?.item).toEqual({
      id: food.id, name: food.name, basicCode: food.basicCode, implementationCode: food.implementationCode,
      typeCode: '01', typeName: '行政许可', level: 3, caseType: '2', legalTimeLimit: 20, promisedTimeLimit: 5, onlineDepth: 5, visits: 0,
      agency: { code: hangzhouMarket.code, name: hangzhouMarket.name, regionCode: '330100', level: 3 },
      materials: food.materials.map((m) => ({ replaceableByLicenceType: null, ...m })),
      licenceType: food.licenceType,
    });
  });

  test('a public-service item (type 20) has no licence type', async () => {
    const r = await callSubgraph<{ item: { typeName: string; licenceType: unknown } }>(svc.url, key, ANONYMOUS,
      'query ($id: ID!) { item(id: $id) { typeName licenceType { code } } }', { id: flexible.id });
    expect(r.data?.item).toEqual({ typeName: '公共服务', licenceType: null });
  });

  test.each(['not-a-uuid', 'b0f7c1f2-0001-4000-8000-00000000ffff'])('item(%s) is null, not an error', async (id) => {
    const r = await callSubgraph<{ item: unknown }>(svc.url, key, ANONYMOUS, 'query ($id: ID!) { item(id: $id) { id } }', { id });
    expect(r.errors).toBeUndefined();
    expect(r.data?.item).toBeNull();
  });
});

describe('item.agencies', () => {
  test('agencies lists the seeded agencies; agency(code) has its items; unknown code is null', async () => {
    const r = await callSubgraph<{ agencies: Array<{ code: string; items: Array<{ id: string }> }>; agency: { name: string; items: Array<{ id: string }> }; none: unknown }>(
      svc.url, key, ANONYMOUS,
      'query ($c: ID!) { agencies { code items { id } } agency(code: $c) { name items { id } } none: agency(code: "nope") { code } }',
      { c: DEMO_AGENCIES[0].code });
    expect(r.errors).toBeUndefined();
    expect(r.data?.agencies.map((a) => a.code).sort()).toEqual(DEMO_AGENCIES.map((a) => a.code).sort());
    const hz = r.data?.agencies.find((a) => a.code === hangzhouMarket.code);
    expect(hz?.items.map((i) => i.id).sort()).toEqual(DEMO_ITEMS.filter((i) => i.agencyCode === hangzhouMarket.code).map((i) => i.id).sort());
    expect(r.data?.agency).toEqual({ name: DEMO_AGENCIES[0].name, items: [{ id: foodProduction.id }] });
    expect(r.data?.none).toBeNull();
  });
});

describe('item.entities', () => {
  test('_entities resolves Item and Agency references; unknown or malformed ones are null', async () => {
    const r = await callSubgraph<{ _entities: Array<Record<string, unknown> | null> }>(svc.url, key, ANONYMOUS,
      entitiesQuery('... on Item { id name typeName agency { code } } ... on Agency { code name }'), {
        representations: [
          { __typename: 'Item', id: food.id },
          { __typename: 'Item', id: flexible.id.toUpperCase() },
          { __typename: 'Item', id: 'b0f7c1f2-0001-4000-8000-00000000ffff' },
          { __typename: 'Item', id: 'junk' },
          { __typename: 'Agency', code: hangzhouMarket.code },
          { __typename: 'Agency', code: 'nope' },
        ],
      });
    expect(r.errors).toBeUndefined();
    expect(r.data?._entities).toEqual([
      { id: food.id, name: food.name, typeName: '行政许可', agency: { code: hangzhouMarket.code } },
      { id: flexible.id, name: flexible.name, typeName: '公共服务', agency: { code: flexible.agencyCode } },
      null,
      null,
      { code: hangzhouMarket.code, name: hangzhouMarket.name },
      null,
    ]);
  });
});

describe('item.gateway', () => {
  test('a request without the gateway identity assertion is refused with 401 GATEWAY_IDENTITY_REQUIRED', async () => {
    const r = await callSubgraph(svc.url, null, ANONYMOUS, '{ items { id } }');
    expect(r.status).toBe(401);
    expect(r.problem?.code).toBe('GATEWAY_IDENTITY_REQUIRED');
  });

  test('/healthz reports the database, the cache and the event loops', async () => {
    const res = await fetch(`${svc.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ service: 'item', status: 'ok', checks: { db: 'ok', cache: 'ok', events: 'ok' } });
  });
});
