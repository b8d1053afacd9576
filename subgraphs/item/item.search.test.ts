import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../kernel/config.ts';
import { internalKey } from '../../kernel/internal-auth.ts';
import { silentLogger } from '../../kernel/log.ts';
import { systemClock } from '../../kernel/clock.ts';
import { DEMO_ITEMS } from '../../kernel/demo.ts';
import type { Deps } from '../../kernel/service.ts';
import { testCache, testDb, TEST_SECRET, type TestDb } from '../../test/support/infra.ts';
import { ANONYMOUS, PERSON, callSubgraph } from '../../test/support/subgraph.ts';
import { streamProbe } from '../../test/support/streams.ts';
import { eventually } from '../../test/support/eventually.ts';
import { createItemService, upsertItem, type ItemService } from './service.ts';
import { GRAMS_VERSION, highlight, parseQuery } from './search/text.ts';
import { backfillSearchDocs } from './search/index.ts';
import { DEFAULT_TUNING, candidateBound, containsBound, gramStats, gramsReadPays, runSearch, type SearchRow } from './search/query.ts';
import { migrate } from '../../kernel/migrate.ts';
import { ITEM_MIGRATIONS, ITEM_SCHEMA } from './migrations.ts';

const key = internalKey(TEST_SECRET);
let db: TestDb;
let cache: Awaited<ReturnType<typeof testCache>>;
let svc: ItemService;

const [food, selfEmployed, flexible, foodProduction] = DEMO_ITEMS as [typeof DEMO_ITEMS[number], typeof DEMO_ITEMS[number], typeof DEMO_ITEMS[number], typeof DEMO_ITEMS[number]];
const id = (n: number) => `b0f7c1f2-0002-4000-8000-${String(n).padStart(12, '0')}`;
/** Extra items so relevance has something to choose between. */
const EXTRA = [
  { ...food, id: id(1), name: '食品经营许可（变更）', basicCode: '000110011001', implementationCode: '11330100MB0000002W3000110011001', themes: ['C02', 'C12'], objects: ['2'] },
  { ...food, id: id(2), name: '药品经营许可', basicCode: '000110020000', implementationCode: '11330100MB0000002W3000110020000', themes: ['C12'], objects: ['2'],
    materials: [{ code: 'M01', name: '药品经营许可证申请表', required: true, paperCopies: 0 }] },
  { ...food, id: id(3), name: '小餐饮登记', basicCode: '000110030000', implementationCode: '11330100MB0000002W3000110030000', themes: ['C02'], objects: ['5'],
    onlineDepth: 2, onlineHandling: false, materials: [{ code: 'M01', name: '食品安全承诺书', required: true, paperCopies: 1 }] },
  { ...flexible, id: id(4), name: '失业保险金申领', basicCode: '002018004000', implementationCode: '11330100MB000000303002018004000', themes: ['P05', 'P08'], objects: ['1'] },
];

type Hit = { cursor: string; score: number; node: { id: string; name: string }; highlight: Array<{ text: string; match: boolean }> };
type Result = { edges: Hit[]; pageInfo: { hasNextPage: boolean; endCursor: string | null }; totalCount: number };
const Q = `query ($q: String, $f: ItemSearchFilter, $n: Int, $a: String) { searchItems(query: $q, filter: $f, first: $n, after: $a) {
  edges { cursor score node { id name } highlight { text match } } pageInfo { hasNextPage endCursor } totalCount } }`;
const search = (q: string | null, f?: Record<string, unknown>, n?: number, a?: string) =>
  callSubgraph<{ searchItems: Result }>(svc.url, key, ANONYMOUS, Q, { q, ...(f ? { f } : {}), ...(n ? { n } : {}), ...(a ? { a } : {}) });
const names = async (q: string | null, f?: Record<string, unknown>) => {
  const r = await search(q, f, 100);
  expect(r.errors).toBeUndefined();
  return r.data!.searchItems.edges.map((e) => e.node.name);
};
const marked = (h: Hit['highlight']) => h.map((s) => (s.match ? `[${s.text}]` : s.text)).join('');

beforeAll(async () => {
  db = await testDb();
  cache = await testCache();
  const deps: Deps = {
    config: loadConfig({}), secrets: { internalSecret: TEST_SECRET, keyPassphrase: TEST_SECRET, cookieKeys: [TEST_SECRET] },
    internalKey: key, db, cache, clock: systemClock, log: silentLogger(),
  };
  svc = await createItemService(deps, { port: 0, seed: true, consumer: { blockMs: 20 } });
  await db.tx(async (q) => { for (const i of EXTRA) await upsertItem(q, i, new Date()); });
});

afterAll(async () => {
  await svc?.close();
  await cache?.close();
  await db?.destroy();
});

describe('search relevance (Chinese)', () => {
  test('R-IT-7: 食品许可 finds 食品经营许可 although the words are not adjacent, and marks what matched', async () => {
    const r = await search('食品许可');
    expect(r.errors).toBeUndefined();
    const edges = r.data!.searchItems.edges;
    expect(edges.map((e) => e.node.name)).toEqual(expect.arrayContaining(['食品经营许可（新办）', '食品经营许可（变更）', '食品生产许可（省级）']));
    // 药品经营许可 matches only through its theme 食品药品 and its name's 许可: it comes last.
    expect(edges.map((e) => e.node.name)[edges.length - 1]).toBe('药品经营许可');
    const hit = edges.find((e) => e.node.id === food.id)!;
    expect(marked(hit.highlight)).toBe('[食品]经营[许可]（新办）');
  });

  test('the exact name ranks first, then names starting with the query, then names containing it', async () => {
    expect((await names('食品经营许可（新办）'))[0]).toBe('食品经营许可（新办）');
    const n = await names('经营许可');
    // 药品经营许可 contains the term; the food items contain it too; all rank above 小餐饮登记 (material only).
    expect(n.slice(0, 3).sort()).toEqual(['药品经营许可', '食品经营许可（变更）', '食品经营许可（新办）'].sort());
    expect(await names('餐饮')).toEqual(['小餐饮登记']);
  });

  test('one and two characters find what contains them', async () => {
    // Named 药… first; then the items whose theme is 食品药品.
    expect((await names('药'))[0]).toBe('药品经营许可');
    expect((await names('失业')).slice(0, 1)).toEqual(['失业保险金申领']);
    const one = await search('餐');
    expect(marked(one.data!.searchItems.edges[0]!.highlight)).toBe('小[餐]饮登记');
  });

  test('materials and theme names are searched too, below name matches', async () => {
    // 设备设施布局 is only in materials of the food items.
    expect((await names('设备设施布局')).sort()).toEqual(['食品生产许可（省级）', '食品经营许可（变更）', '食品经营许可（新办）'].sort());
    // 社会保障 is the name of theme P08.
    expect((await names('社会保障')).sort()).toEqual(['失业保险金申领', '灵活就业人员参保登记'].sort());
    // 食品安全承诺书 is a material of 小餐饮登记: it matches 食品, after the items named so.
    const n = await names('食品');
    expect(n[n.length - 1]).toBe('小餐饮登记');
  });

  test('a quoted phrase must occur as written; separate terms must all match', async () => {
    expect((await names('"经营许可"')).sort()).toEqual(['药品经营许可', '食品经营许可（变更）', '食品经营许可（新办）'].sort());
    expect(await names('「许可经营」')).toEqual([]);
    expect((await names('食品 变更'))).toEqual(['食品经营许可（变更）']);
    expect(await names('食品 失业')).toEqual([]);
  });

  test('codes: a whole basic code first, prefixes and inner parts, case and width insensitive', async () => {
    expect((await names('000107002000'))[0]).toBe('个体工商户设立登记');
    expect(await names('mb0000001l')).toEqual(['食品生产许可（省级）']);
    expect(await names('ＭＢ００００００１Ｌ')).toEqual(['食品生产许可（省级）']);
    expect((await names('0001100'))).toEqual(expect.arrayContaining(['食品经营许可（新办）', '食品生产许可（省级）']));
  });

  test('R-IT-7: three characters: names holding them together rank above names holding them apart', async () => {
    const n = await names('经营许');
    expect(n.slice(0, 3).sort()).toEqual(['药品经营许可', '食品经营许可（变更）', '食品经营许可（新办）'].sort());
    // 个体工商户设立登记 has 经营 in a material only, and no 许: not a match.
    expect(n).not.toContain('个体工商户设立登记');
    expect((await names('保险金'))).toEqual(['失业保险金申领']);
    // Characters apart still match (fuzzy), below the names holding them together.
    const apart = await names('食许可');
    expect(apart).toEqual(expect.arrayContaining(['食品经营许可（新办）', '食品生产许可（省级）']));
    expect(apart).not.toContain('失业保险金申领');
  });

  test('R-IT-7: code fragments of six characters or more are found by their 6-grams, inside credit codes too', async () => {
    // MB00000030 is the agency part of two implementation codes.
    expect((await names('mb00000030')).sort()).toEqual(['失业保险金申领', '灵活就业人员参保登记'].sort());
    expect((await names('0000002w3')).sort()).toEqual(
      ['个体工商户设立登记', '小餐饮登记', '药品经营许可', '食品经营许可（变更）', '食品经营许可（新办）'].sort());
    // A whole implementation code finds its item only; a fragment no code holds finds nothing.
    expect(await names('11330000MB0000001L2000110010000')).toEqual(['食品生产许可（省级）']);
    expect(await names('000000999')).toEqual([]);
  });

  test('R-IT-7: documents cut by an older gram version are cut again, keeping their popularity', async () => {
    await db.query(`update item.search_docs set grams = array(select g from unnest(grams) g where length(g) < 6), grams_version = 1, popularity = popularity + 7
      where item_id = $1`, [flexible.id]);
    const before = (await db.query<{ popularity: number }>('select popularity from item.search_docs where item_id = $1', [flexible.id])).rows[0]!.popularity;
    expect(await backfillSearchDocs(db)).toBe(1);
    const { rows } = await db.query<{ grams: string[]; grams_version: number; popularity: number }>(
      'select grams, grams_version, popularity from item.search_docs where item_id = $1', [flexible.id]);
    expect(rows[0]!.grams).toContain('000030');
    expect(rows[0]!.grams_version).toBe(GRAMS_VERSION);
    expect(rows[0]!.popularity).toBe(before);
    expect(await backfillSearchDocs(db)).toBe(0);
  });

  test('punctuation alone finds nothing; an empty query browses everything', async () => {
    expect(await names('？！')).toEqual([]);
    expect((await names('')).length).toBe(DEMO_ITEMS.length + EXTRA.length);
    expect((await names(null)).length).toBe(DEMO_ITEMS.length + EXTRA.length);
  });
});

describe('search filters', () => {
  test.each([
    [{ typeCode: '20' }, ['失业保险金申领', '灵活就业人员参保登记']],
    [{ nature: 'SERVICE' }, ['失业保险金申领', '灵活就业人员参保登记']],
    [{ theme: 'P08' }, ['失业保险金申领', '灵活就业人员参保登记']],
    [{ object: '5' }, ['个体工商户设立登记', '小餐饮登记', '食品经营许可（新办）']],
    [{ level: 2 }, ['食品生产许可（省级）']],
    [{ agencyCode: foodProduction.agencyCode }, ['食品生产许可（省级）']],
    [{ onlineHandling: false }, ['小餐饮登记']],
    [{ minOnlineDepth: 5, theme: 'C02' }, ['食品经营许可（变更）', '食品经营许可（新办）', '药品经营许可'].slice(0, 2)],
  ])('filter %j', async (f, expected) => {
    expect((await names(null, f)).sort()).toEqual([...expected].sort());
  });

  test('filters combine with a query', async () => {
    expect(await names('许可', { level: 2 })).toEqual(['食品生产许可（省级）']);
    // 失业保险金申领 shares the 参保登记表 material: the named one first.
    expect(await names('登记', { nature: 'SERVICE' })).toEqual(['灵活就业人员参保登记', '失业保险金申领']);
  });

  test.each([
    [{ theme: 'X01' }, 'filter.theme'], [{ object: '9' }, 'filter.object'], [{ typeCode: '11' }, 'filter.typeCode'],
    [{ level: 8 }, 'filter.level'], [{ minOnlineDepth: 0 }, 'filter.minOnlineDepth'],
  ])('bad filter %j is BAD_INPUT naming %s', async (f, field) => {
    const r = await search('食品', f);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_INPUT');
    expect(Object.keys(r.errors?.[0]?.extensions?.details as object)).toEqual([field]);
  });

  test('first out of range and an overlong query are BAD_INPUT', async () => {
    for (const n of [0, 101]) expect((await callSubgraph(svc.url, key, ANONYMOUS, Q, { q: '食品', n })).errors?.[0]?.extensions?.code).toBe('BAD_INPUT');
    expect((await search('食'.repeat(101))).errors?.[0]?.extensions?.code).toBe('BAD_INPUT');
  });
});

describe('search pagination', () => {
  test('cursors walk the whole result once, in order, with the total on every page', async () => {
    const all = (await search('', undefined, 100)).data!.searchItems;
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = (await search('', undefined, 3, after)).data!.searchItems;
      expect(page.totalCount).toBe(all.totalCount);
      seen.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    expect(seen).toEqual(all.edges.map((e) => e.node.id));
    const q = (await search('许可', undefined, 2)).data!.searchItems;
    const rest = (await search('许可', undefined, 100, q.pageInfo.endCursor!)).data!.searchItems;
    expect([...q.edges, ...rest.edges].map((e) => e.node.id)).toEqual((await search('许可', undefined, 100)).data!.searchItems.edges.map((e) => e.node.id));
  });

  test('a cursor of another search, or garbage, is BAD_INPUT', async () => {
    const c = (await search('许可', undefined, 1)).data!.searchItems.pageInfo.endCursor!;
    expect((await search('食品', undefined, 1, c)).errors?.[0]?.extensions?.code).toBe('BAD_INPUT');
    expect((await search('许可', { level: 3 }, 1, c)).errors?.[0]?.extensions?.code).toBe('BAD_INPUT');
    expect((await search('许可', undefined, 1, 'garbage')).errors?.[0]?.extensions?.code).toBe('BAD_INPUT');
  });
});

describe('broad plan (many matches: read in popularity order by relevance class)', () => {
  let broad: ItemService;
  beforeAll(async () => {
    // A tiny sample and walk, so this small catalogue behaves like a large one.
    broad = await createItemService({
      config: loadConfig({}), secrets: { internalSecret: TEST_SECRET, keyPassphrase: TEST_SECRET, cookieKeys: [TEST_SECRET] },
      internalKey: key, db, cache, clock: systemClock, log: silentLogger(),
    }, { port: 0, searchTuning: { sampleSize: 4, broadMin: 1, classMin: 2, walkChunk: 2, walkMaxChunks: 2, selectiveMaxCandidates: 0 } });
  });
  afterAll(async () => { await broad?.close(); });

  const walkAll = async (q: string, f?: Record<string, unknown>) => {
    const seen: Hit[] = [];
    let after: string | undefined;
    let exact: boolean | undefined;
    for (let i = 0; i < 50; i++) {
      const r = await callSubgraph<{ searchItems: Result & { totalCountExact: boolean } }>(broad.url, key, ANONYMOUS,
        Q.replace('totalCount }', 'totalCount totalCountExact }'), { q, ...(f ? { f } : {}), n: 3, ...(after ? { a: after } : {}) });
      expect(r.errors).toBeUndefined();
      exact ??= r.data!.searchItems.totalCountExact;
      seen.push(...r.data!.searchItems.edges);
      if (!r.data!.searchItems.pageInfo.hasNextPage) return { seen, exact };
      after = r.data!.searchItems.pageInfo.endCursor!;
    }
    throw new Error('pagination did not end');
  };

  test('paging finds exactly the matches of the full ranking, each once, names containing the query first', async () => {
    for (const q of ['许可', '食品许可', '登记', '']) {
      const { seen, exact } = await walkAll(q);
      const all = await names(q);
      expect(seen.map((e) => e.node.name).sort()).toEqual([...all].sort());
      expect(new Set(seen.map((e) => e.node.id)).size).toBe(seen.length);
      // 登记 and browsing match most of the sample (the four first by name); the others may be selective here.
      if (q === '登记' || q === '') expect(exact).toBe(false);
    }
    const { seen, exact } = await walkAll('登记');
    expect(exact).toBe(false);
    const firstBodyOnly = seen.findIndex((e) => !e.node.name.includes('登记'));
    expect(firstBodyOnly).toBeGreaterThan(0);
    expect(seen.slice(firstBodyOnly).every((e) => !e.node.name.includes('登记'))).toBe(true);
    expect(seen[0]!.highlight.some((h) => h.match && h.text === '登记')).toBe(true);
  });

  test('a name equal to the query comes first; filters hold', async () => {
    const { seen } = await walkAll('小餐饮登记');
    expect(seen[0]?.node.name).toBe('小餐饮登记');
    const filtered = await walkAll('许可', { level: 3 });
    expect(filtered.seen.map((e) => e.node.name).sort()).toEqual((await names('许可', { level: 3 })).sort());
  });

  test('a cursor of the broad plan is refused by another search', async () => {
    const r = await callSubgraph<{ searchItems: Result }>(broad.url, key, ANONYMOUS, Q, { q: '许可', n: 1 });
    const c = r.data!.searchItems.pageInfo.endCursor!;
    expect((await callSubgraph(broad.url, key, ANONYMOUS, Q, { q: '登记', n: 1, a: c })).errors?.[0]?.extensions?.code).toBe('BAD_INPUT');
  });
});

describe('popularity, hot list, co-occurrence, recommendations', () => {
  test('completed cases raise an item in ranking and the hot list; a redelivered event counts once', async () => {
    const probe = streamProbe(cache);
    const before = (await names('经营许可')).slice(0, 3);
    // The changed item ranks below the new one by name; give it cases.
    const changed = EXTRA[0]!;
    const eventId = await probe.publish('cases', 'case.completed', { caseId: 'c1', itemId: changed.id, applicantId: 'p-1', outcomeCode: '0', completedAt: new Date().toISOString() });
    await probe.publish('cases', 'case.completed', { caseId: 'c1', itemId: changed.id, applicantId: 'p-1', outcomeCode: '0', completedAt: new Date().toISOString() }, eventId);
    await probe.publish('cases', 'case.completed', { caseId: 'c2', itemId: changed.id, applicantId: 'p-2', outcomeCode: '0', completedAt: new Date().toISOString() });
    await probe.publish('cases', 'case.accepted', { caseId: 'c3', itemName: 'x' });
    await probe.publish('cases', 'case.completed', { caseId: 'c4', itemId: 'not-a-uuid' });
    const hot = await eventually(async () => {
      const r = await callSubgraph<{ hotItems: Array<{ cases: number; item: { id: string; popularity: number } }> }>(svc.url, key, ANONYMOUS,
        '{ hotItems(first: 5) { cases item { id popularity } } }');
      const h = r.data?.hotItems ?? [];
      return h[0]?.cases === 2 ? h : null;
    });
    expect(hot).toEqual([{ cases: 2, item: { id: changed.id, popularity: 2 } }]);
    const after = (await names('经营许可')).slice(0, 3);
    expect(after[0]).toBe(changed.name);
    expect(before.sort()).toEqual([...after].sort());
  });

  test('items usually done after one another, and recommendations for a person', async () => {
    const probe = streamProbe(cache);
    const t0 = Date.now();
    const at = (k: number) => new Date(t0 + k * 1000).toISOString();
    // Two people did 个体工商户设立登记 then 食品经营许可（新办）.
    for (const p of ['p-10', 'p-11']) {
      await probe.publish('cases', 'case.completed', { caseId: `${p}-a`, itemId: selfEmployed.id, applicantId: p, outcomeCode: '0', completedAt: at(1) });
      await probe.publish('cases', 'case.completed', { caseId: `${p}-b`, itemId: food.id, applicantId: p, outcomeCode: '0', completedAt: at(2) });
    }
    // The demo person did 个体工商户设立登记 only.
    await probe.publish('cases', 'case.completed', { caseId: 'me-a', itemId: selfEmployed.id, applicantId: PERSON.kind === 'person' ? PERSON.sub : '', outcomeCode: '0', completedAt: at(3) });
    const related = await eventually(async () => {
      const r = await callSubgraph<{ item: { related: Array<{ cases: number; order: string; item: { id: string } }> } }>(svc.url, key, ANONYMOUS,
        'query ($id: ID!) { item(id: $id) { related { cases order item { id } } } }', { id: selfEmployed.id });
      const rel = r.data?.item.related ?? [];
      return rel[0]?.cases === 2 ? rel : null;
    });
    expect(related).toEqual([{ cases: 2, order: 'AFTER', item: { id: food.id } }]);
    const back = await callSubgraph<{ item: { related: Array<{ order: string }> } }>(svc.url, key, ANONYMOUS,
      'query ($id: ID!) { item(id: $id) { related { order } } }', { id: food.id });
    expect(back.data?.item.related[0]?.order).toBe('BEFORE');
    await eventually(async () => (await db.query('select 1 from item.applicant_items where item_id = $1', [selfEmployed.id])).rowCount === 3);
    const rec = await callSubgraph<{ recommendedItems: Array<{ id: string }> }>(svc.url, key, PERSON, '{ recommendedItems(first: 3) { id } }');
    expect(rec.errors).toBeUndefined();
    // First what people did next, never what the person already did.
    expect(rec.data?.recommendedItems[0]?.id).toBe(food.id);
    expect(rec.data?.recommendedItems.map((i) => i.id)).not.toContain(selfEmployed.id);
    const anon = await callSubgraph<{ recommendedItems: Array<{ id: string }> }>(svc.url, key, ANONYMOUS, '{ recommendedItems(first: 10) { id } }');
    // Anonymous: popular items for natural persons (object 1) only.
    expect(anon.data?.recommendedItems.map((i) => i.id).sort()).toEqual([selfEmployed.id, flexible.id, EXTRA[3]!.id].sort());
  });
});

describe('subscriptions', () => {
  const SUBS = '{ mySubscriptions { changed item { id } } }';
  test('a person follows an item, sees when it changed, and stops following; anonymous callers cannot', async () => {
    const sub = await callSubgraph<{ subscribeItem: { changed: boolean; item: { id: string } } }>(svc.url, key, PERSON,
      'mutation ($id: ID!) { subscribeItem(itemId: $id) { changed item { id } } }', { id: flexible.id });
    expect(sub.errors).toBeUndefined();
    expect(sub.data?.subscribeItem).toEqual({ changed: false, item: { id: flexible.id } });
    // Following twice is one subscription.
    await callSubgraph(svc.url, key, PERSON, 'mutation ($id: ID!) { subscribeItem(itemId: $id) { changed } }', { id: flexible.id });
    expect((await callSubgraph<{ mySubscriptions: unknown[] }>(svc.url, key, PERSON, SUBS)).data?.mySubscriptions).toEqual([{ changed: false, item: { id: flexible.id } }]);
    await new Promise((r) => setTimeout(r, 5));
    await db.tx((q) => upsertItem(q, { ...flexible, promisedTimeLimit: 1 }, new Date()));
    expect((await callSubgraph<{ mySubscriptions: unknown[] }>(svc.url, key, PERSON, SUBS)).data?.mySubscriptions).toEqual([{ changed: true, item: { id: flexible.id } }]);
    // Another person's list is their own.
    const other = { ...PERSON, sub: '7c1d5c4e-0000-4000-8000-000000000099' };
    expect((await callSubgraph<{ mySubscriptions: unknown[] }>(svc.url, key, other, SUBS)).data?.mySubscriptions).toEqual([]);
    const un = await callSubgraph<{ unsubscribeItem: boolean }>(svc.url, key, PERSON, 'mutation ($id: ID!) { unsubscribeItem(itemId: $id) }', { id: flexible.id });
    expect(un.data?.unsubscribeItem).toBe(true);
    expect((await callSubgraph<{ unsubscribeItem: boolean }>(svc.url, key, PERSON, 'mutation ($id: ID!) { unsubscribeItem(itemId: $id) }', { id: flexible.id })).data?.unsubscribeItem).toBe(false);
    expect((await callSubgraph(svc.url, key, ANONYMOUS, SUBS)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await callSubgraph(svc.url, key, PERSON, 'mutation { subscribeItem(itemId: "b0f7c1f2-0001-4000-8000-00000000ffff") { changed } }')).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await db.tx((q) => upsertItem(q, flexible, new Date()));
  });
});

describe('scenario navigation', () => {
  test('R-IT-5: object → theme → items', async () => {
    const r = await callSubgraph<{ serviceObjects: Array<{ code: string; name: string; themes: Array<{ code: string; name: string; items: Result }> }> }>(
      svc.url, key, ANONYMOUS, '{ serviceObjects { code name themes { code name items { totalCount edges { node { name } } } } } }');
    expect(r.errors).toBeUndefined();
    const person = r.data!.serviceObjects.find((o) => o.code === '1')!;
    expect(person.name).toBe('自然人');
    const social = person.themes.find((t) => t.code === 'P08')!;
    expect(social.name).toBe('社会保障');
    expect(social.items.edges.map((e) => e.node.name).sort()).toEqual(['失业保险金申领', '灵活就业人员参保登记'].sort());
    const company = r.data!.serviceObjects.find((o) => o.code === '2')!;
    expect(company.themes.every((t) => t.code.startsWith('C'))).toBe(true);
    const bad = await callSubgraph(svc.url, key, ANONYMOUS, '{ themes(object: "9") { code } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_INPUT');
  });
});

describe('broad plan: a class whose bigrams are each common but rare together is read through the gram index', () => {
  // 排, 污, 许 and the bigram 排污 are held by most items, 污许 only by the 排污许可 names: no
  // character bounds the query (the sample decides: broad), but its bigrams bound the class of
  // names containing 排污许, which is rare among the popular items (a walk would read far).
  let own: TestDb;
  const docId = (n: number) => `b0f7c1f2-0003-4000-8000-${String(n).padStart(12, '0')}`;
  const level1 = ['排污许可', '排污许可（新办）', '排污许可（变更）', '排污许可（延续）', '排污许可证补办'];
  const docs: Array<{ id: string; name: string; popularity: number }> = [];
  // Ties in popularity (7, 7) exercise the order by name and id.
  for (let k = 0; k < 20; k++) docs.push({ id: docId(k), name: level1[k % 5]!, popularity: k === 3 || k === 8 ? 7 : 10 + ((k * 37) % 200) });
  for (let k = 0; k < 20; k++) docs.push({ id: docId(100 + k), name: k % 2 ? '排污备案' : '排污登记', popularity: 5 + k });
  for (let k = 0; k < 30; k++) docs.push({ id: docId(200 + k), name: ['取水许可', '食品经营许可', '药品零售许可'][k % 3]!, popularity: 300 + k });
  // The characters apart: level 2.
  for (let k = 0; k < 3; k++) docs.push({ id: docId(300 + k), name: '污水排放许可', popularity: k === 0 ? 450 : 3 + k });
  // The most popular 排污许可 is among the ten most popular items (the sample).
  docs[0]!.popularity = 490;
  const tuning = { sampleSize: 10, broadMin: 1, classMin: 1, walkChunk: 2, walkMaxChunks: 2, selectiveMaxCandidates: 30 };

  beforeAll(async () => {
    own = await testDb();
    await migrate(own, ITEM_SCHEMA, ITEM_MIGRATIONS);
    await own.tx(async (q) => {
      await q.query(`insert into item.agencies (code, name, region_code, level, updated_at) values ($1, '测试局', '330100', 3, now())`, [food.agencyCode]);
      for (const [n, d] of docs.entries()) {
        await upsertItem(q, { ...food, id: d.id, name: d.name, implementationCode: `${food.implementationCode.slice(0, -3)}${String(n).padStart(3, '0')}`,
          themes: ['C10'], materials: [{ code: 'M01', name: `${d.name}申请书`, required: true, paperCopies: 0 }] }, new Date());
        await q.query('update item.search_docs set popularity = $2 where item_id = $1', [d.id, d.popularity]);
      }
    });
    await own.query('analyze item.search_docs');
  });
  afterAll(async () => { await own?.destroy(); });

  const pages = async (q: string, t: typeof tuning) => {
    const rows: SearchRow[] = [];
    const reads: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 200; i++) {
      const page = await runSearch(own, parseQuery(q), {}, 5, after, { ...DEFAULT_TUNING, ...t });
      expect(page.plan).toBe('broad');
      rows.push(...page.rows);
      reads.push(...(page.reads ?? []));
      if (!page.hasNext) return { rows, reads };
      after = page.resume ?? page.cursor(page.rows.at(-1)!);
    }
    throw new Error('pagination did not end');
  };

  test('R-IT-7: 排污许 returns the names containing it in popularity order, read through its bigrams, the same as a walk', async () => {
    const stats = await gramStats(own);
    // The characters do not bound the query, the bigrams bound the class.
    expect(candidateBound(parseQuery('排污许'), stats)!).toBeGreaterThan(tuning.selectiveMaxCandidates);
    expect(containsBound(parseQuery('排污许'), stats)).toBe(20);
    const viaGrams = await pages('排污许', tuning);
    expect(viaGrams.reads).toContain('grams');
    const expected = docs.filter((d) => d.name.includes('排污许'))
      .sort((a, b) => b.popularity - a.popularity || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || (a.id < b.id ? -1 : 1));
    expect(viaGrams.rows.slice(0, 20).map((r) => r.item_id)).toEqual(expected.map((d) => d.id));
    // Then the names holding the characters apart, most popular first; each item once.
    expect(viaGrams.rows.slice(20, 23).map((r) => [r.name, r.popularity])).toEqual([['污水排放许可', 450], ['污水排放许可', 5], ['污水排放许可', 4]]);
    expect(new Set(viaGrams.rows.map((r) => r.item_id)).size).toBe(viaGrams.rows.length);
    // Without the statistics plans the class is walked in popularity order: the same rows in the same order.
    const walked = await pages('排污许', { ...tuning, selectiveMaxCandidates: 0 });
    expect(walked.reads).not.toContain('grams');
    expect(walked.reads).toContain('walk');
    expect(walked.rows.map((r) => r.item_id)).toEqual(viaGrams.rows.map((r) => r.item_id));
  });

  test('the gram read is chosen only when the bigrams bound the class and a walk would read more', async () => {
    // 许可 is contained in most names: its class is walked.
    expect((await pages('许可', tuning)).reads).not.toContain('grams');
    expect(gramsReadPays(20, 0.1, 6, tuning)).toBe(true);
    expect(gramsReadPays(20, 0.9, 6, tuning)).toBe(false);
    expect(gramsReadPays(40, 0.01, 6, tuning)).toBe(false);
    expect(gramsReadPays(null, 0.01, 6, tuning)).toBe(false);
    expect(gramsReadPays(20, 0.01, 6, { ...tuning, selectiveMaxCandidates: 0 })).toBe(false);
    expect(containsBound(parseQuery('"排污许"'), await gramStats(own))).toBeNull();
  });
});

describe('text functions', () => {
  test('query parsing: terms, phrases, mixed runs, width and case folding', () => {
    expect(parseQuery('食品 许可').terms.map((t) => [t.text, t.phrase])).toEqual([['食品', false], ['许可', false]]);
    expect(parseQuery('"食品 经营"').terms.map((t) => [t.text, t.phrase])).toEqual([['食品经营', true]]);
    expect(parseQuery('食品ＡＢ12').terms.map((t) => [t.text, t.kind])).toEqual([['食品', 'han'], ['ab12', 'alnum']]);
    expect(parseQuery('  ').terms).toEqual([]);
  });

  test('the candidate bound from gram statistics: the rarest looked-up gram, unlisted grams below the lowest listed', () => {
    const stats = { freq: new Map([['证', 0.89], ['许', 0.57], ['可', 0.57], ['000', 1], ['005', 0.18], ['000005', 0.0102]]), floor: 0.0102, items: 100_000 };
    expect(candidateBound(parseQuery('驾驶证'), stats)).toBe(1020);
    expect(candidateBound(parseQuery('许可'), stats)).toBe(57_000);
    expect(candidateBound(parseQuery('mb000005'), stats)).toBe(1020);
    expect(candidateBound(parseQuery(''), stats)).toBeNull();
    expect(candidateBound(parseQuery('驾驶证'), { freq: new Map(), floor: 1, items: 100_000 })).toBeNull();
  });

  test('highlighting keeps the original text and marks whole terms, else bigrams, else characters', () => {
    const q = parseQuery('食品许可');
    expect(highlight('食品经营许可（新办）', q).map((s) => s.text).join('')).toBe('食品经营许可（新办）');
    expect(marked(highlight('许可食品', parseQuery('食品')))).toBe('许可[食品]');
    expect(marked(highlight('品食', parseQuery('食品')))).toBe('[品食]');
    expect(marked(highlight('ＭＢ12', parseQuery('mb')))).toBe('[ＭＢ]12');
  });
});
