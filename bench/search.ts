/**
 * `npm run bench search`: the item search (R-IT-7) over 100,000 generated items on real
 * PostgreSQL, against a plain `ILIKE '%…%'` scan of names and codes in the same run.
 *
 * The catalogue is generated like a real one: a few hundred distinct item names (subjects ×
 * actions, e.g. 食品经营许可（变更）) implemented by some three hundred agencies each with its own
 * implementation code, materials drawn from templates, themes and objects by subject, and a
 * skewed popularity (a few items take most cases). Queries: 1, 2, 3 and 4 Han characters
 * (including fuzzy ones whose characters are not adjacent in the names, e.g. 食品许可), whole
 * basic codes and fragments of implementation codes. Each query runs `BENCH_SEARCH_ROUNDS` times
 * after a warm-up; latency is the database round trip of the full search (filter, score, sort,
 * first page of 20 with the total count), measured from Node. The same is measured through the
 * item subgraph over HTTP (GraphQL, identity assertion, highlighting) for a subset.
 *
 * Variables: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres, needs CREATEDB),
 * REDIS_URL (default redis://127.0.0.1:6379), BENCH_SEARCH_ITEMS (100000), BENCH_SEARCH_ROUNDS (20).
 */
import { scratchDatabase } from './support/scratch-db.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { loadavg } from 'node:os';
import type { BenchResult } from './run.ts';
import { openDb, type Db } from '../kernel/db.ts';
import { openCache } from '../kernel/cache.ts';
import { migrate } from '../kernel/migrate.ts';
import { loadConfig } from '../kernel/config.ts';
import { silentLogger } from '../kernel/log.ts';
import { systemClock } from '../kernel/clock.ts';
import { creditCodeCheckChar } from '../kernel/ids.ts';
import { internalKey, signIdentity, operationHash, IDENTITY_HEADER } from '../kernel/internal-auth.ts';
import { ITEM_MIGRATIONS, ITEM_SCHEMA } from '../subgraphs/item/migrations.ts';
import { searchDoc } from '../subgraphs/item/search/index.ts';
import { DEFAULT_ELEMENTS } from '../subgraphs/item/elements.ts';
import { parseQuery } from '../subgraphs/item/search/text.ts';
import { runSearch } from '../subgraphs/item/search/query.ts';
import { createItemService } from '../subgraphs/item/service.ts';

const BASE_DB = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ITEMS = Number(process.env.BENCH_SEARCH_ITEMS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_SEARCH_ROUNDS ?? 20);
const SECRET = 'bench-internal-secret-0123456789abcdef-0123456789';

/** Subjects with the themes and objects they belong to. */
const SUBJECTS: Array<[string, string[], string[]]> = [
  ['食品经营', ['C02', 'C12'], ['2', '5']], ['食品生产', ['C02', 'C12'], ['2']], ['药品零售', ['C02', 'C12'], ['2']], ['药品批发', ['C12'], ['2']],
  ['医疗器械经营', ['C12'], ['2']], ['化妆品生产', ['C12'], ['2']], ['建筑工程施工', ['C09'], ['2']], ['建设工程规划', ['C09'], ['2', '3']],
  ['道路运输经营', ['C13'], ['2', '5']], ['出租汽车经营', ['C13'], ['2']], ['危险化学品经营', ['C11'], ['2']], ['烟花爆竹经营', ['C11'], ['2', '5']],
  ['特种设备使用', ['C11'], ['2']], ['排污', ['C10'], ['2']], ['取水', ['C10'], ['2', '3']], ['林木采伐', ['C10'], ['1', '2']],
  ['动物防疫条件', ['C02'], ['2']], ['农药经营', ['C02'], ['2', '5']], ['种子生产经营', ['C02'], ['2']], ['燃气经营', ['C02'], ['2']],
  ['户外广告设置', ['C09'], ['2', '5']], ['城市道路占用', ['C09'], ['1', '2']], ['养老机构设立', ['C01'], ['3', '4']], ['民办学校办学', ['C01', 'P03'], ['4']],
  ['娱乐场所经营', ['C02'], ['2']], ['旅馆业特种行业', ['C02'], ['2', '5']], ['出版物零售', ['C02'], ['2', '5']], ['网络文化经营', ['C02'], ['2']],
  ['人力资源服务', ['C06'], ['2']], ['劳务派遣经营', ['C06'], ['2']], ['医疗机构执业', ['C02', 'P09'], ['3']], ['母婴保健技术服务', ['P01', 'P09'], ['3']],
  ['放射诊疗', ['P09'], ['3']], ['消防安全检查', ['C11'], ['2', '3']], ['公共场所卫生', ['C02'], ['2', '5']], ['酒类经营', ['C02'], ['2', '5']],
];
const ACTIONS = ['许可', '许可（新办）', '许可（变更）', '许可（延续）', '许可（注销）', '许可证补办', '备案', '审批', '核准', '登记'];
/** Public services named as a whole. */
const SERVICES: Array<[string, string[]]> = [
  ['灵活就业人员参保登记', ['P05', 'P08']], ['失业保险金申领', ['P05', 'P08']], ['生育津贴申领', ['P01', 'P08']], ['居民身份证换领', ['P12']],
  ['出生医学证明办理', ['P01']], ['婚姻登记', ['P06']], ['住房公积金提取', ['P07']], ['住房公积金贷款', ['P07']], ['基本养老金申领', ['P15', 'P08']],
  ['职业资格证书核发', ['P13']], ['机动车驾驶证换证', ['P10']], ['出入境通行证签发', ['P11']], ['户口迁移登记', ['P02']], ['退役军人优待证办理', ['P14']],
  ['丧葬补助金领取', ['P16']], ['医疗保险参保登记', ['P08', 'P09']], ['社会保障卡申领', ['P08']], ['个人所得税汇算清缴', ['P99']],
];
const MATERIALS = ['{s}申请书', '营业执照', '法定代表人身份证明', '经营场所使用证明', '{s}相关设施布局图', '安全管理制度', '从业人员健康证明', '委托书'];

const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

export function agencyCode(n: number): string {
  const body = `11${String(330000 + (n % 90) * 100).padStart(6, '0')}MB${String(n).padStart(6, '0')}${ALPHABET[n % 31]}`.slice(0, 17);
  return body + creditCodeCheckChar(body);
}

/** Deterministic pseudo-random numbers (mulberry32), so every run benches the same catalogue. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0; a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface GenItem { row: Record<string, unknown>; doc: Record<string, unknown> }

export function generate(n: number, agencies: string[]): GenItem[] {
  const r = rng(42);
  const names: Array<{ name: string; basic: string; themes: string[]; objects: string[]; subject: string; type: string }> = [];
  SUBJECTS.forEach(([s, themes, objects], i) => ACTIONS.forEach((a, j) => names.push({
    name: `${s}${a}`, basic: `0001${String(i).padStart(3, '0')}${String(j).padStart(2, '0')}000`, themes, objects, subject: s, type: a === '备案' ? '10' : '01' })));
  SERVICES.forEach(([s, themes], i) => names.push({ name: s, basic: `0020${String(i).padStart(3, '0')}00000`, themes, objects: ['1'], subject: s, type: '20' }));
  const out: GenItem[] = [];
  const now = new Date().toISOString();
  for (let k = 0; k < n; k++) {
    const nm = names[k % names.length]!;
    const agency = agencies[Math.floor(r() * agencies.length)]!;
    const depth = 1 + Math.floor(r() * 5);
    const materials = MATERIALS.filter(() => r() < 0.5).map((t, m) => ({
      code: `M${String(m + 1).padStart(2, '0')}`, name: t.replace('{s}', nm.subject), required: true, paperCopies: 0, replaceableByLicenceType: null }));
    const id = randomUUID();
    const level = 2 + Math.floor(r() * 3);
    const item = {
      id, name: nm.name, basicCode: nm.basic, implementationCode: `${agency}${level}${nm.basic}${String(k).padStart(6, '0')}`,
      typeCode: nm.type, level, caseType: '2', legalTimeLimit: 20, promisedTimeLimit: 5, onlineDepth: depth, visits: depth >= 5 ? 0 : 1,
      agencyCode: agency, materials, licenceType: null, objects: nm.objects, themes: nm.themes, onlineHandling: depth >= 3,
    };
    const popularity = Math.floor(1000 * r() ** 8);
    out.push({
      row: {
        id, name: item.name, basic_code: item.basicCode, implementation_code: item.implementationCode, type_code: item.typeCode, level,
        case_type: '2', legal_time_limit: 20, promised_time_limit: 5, online_depth: depth, visits: item.visits, agency_code: agency,
        materials, updated_at: now, objects: item.objects, themes: item.themes, online_handling: item.onlineHandling,
        elements: DEFAULT_ELEMENTS, version: 0,
      },
      doc: { ...searchDoc(item), popularity },
    });
  }
  return out;
}

export async function load(db: Db, agencies: string[], items: GenItem[]): Promise<void> {
  await db.query(`insert into item.agencies (code, name, region_code, level, updated_at)
    select c, '第' || n || '市场监督管理局', '330100', 3, now() from unnest($1::text[]) with ordinality as a(c, n)`, [agencies]);
  for (let k = 0; k < items.length; k += 2000) {
    const chunk = items.slice(k, k + 2000);
    await db.query(`insert into item.items select * from json_populate_recordset(null::item.items, $1::json)`, [JSON.stringify(chunk.map((i) => i.row))]);
    await db.query(`insert into item.search_docs select * from json_populate_recordset(null::item.search_docs, $1::json)`, [JSON.stringify(chunk.map((i) => i.doc))]);
  }
  await db.query('vacuum analyze item.items');
  await db.query('vacuum analyze item.search_docs');
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function time(fn: () => Promise<number>): Promise<{ ms: number; rows: number }> {
  const t = performance.now();
  const rows = await fn();
  return { ms: performance.now() - t, rows };
}

export default async function bench(): Promise<BenchResult> {
  if (process.env.BENCH_SEARCH_PREPARE_ONLY) return prepareOnly();
  const scratch = await scratchDatabase(BASE_DB, 'yw_bench_search');
  const db = await openDb({ url: scratch.url.toString(), poolSize: 4 });
  const cache = await openCache({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: `yw-bench:${randomBytes(4).toString('hex')}:` });
  try {
    await migrate(db, ITEM_SCHEMA, ITEM_MIGRATIONS);
    const agencies = Array.from({ length: 300 }, (_, i) => agencyCode(i + 1));
    const gen = generate(ITEMS, agencies);
    const t0 = performance.now();
    await load(db, agencies, gen);
    const loadSeconds = (performance.now() - t0) / 1000;
    const sample = gen[12345 % gen.length]!.row;
    const implFragment = String(sample.implementation_code).slice(8, 16).toLowerCase();
    const queries: Array<[string, string]> = [
      ['1 char', '证'], ['1 char', '药'], ['1 char', '税'], ['1 char', '婚'],
      ['2 chars', '许可'], ['2 chars', '食品'], ['2 chars', '登记'], ['2 chars', '社保'], ['2 chars', '公积'],
      ['3 chars', '公积金'], ['3 chars', '营业执'], ['3 chars', '驾驶证'], ['3 chars', '排污许'],
      ['4 chars', '食品许可'], ['4 chars', '经营许可'], ['4 chars', '参保登记'], ['4 chars', '失业保险'], ['4 chars', '药品零售'],
      ['code', String(sample.basic_code)], ['code', '0001012'], ['code', implFragment],
    ];
    // The plan, and for a broad one how each class was read (names / walk / grams).
    const plans: Record<string, string> = {};
    const searchOnce = async (q: string) => {
      const page = await runSearch(db, parseQuery(q), {}, 20, null);
      plans[q] = page.reads ? `${page.plan}: ${page.reads.join(', ')}` : page.plan;
      return page.rows.length;
    };
    const ilikeOnce = async (q: string) => {
      const lit = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const r = await db.query(
        `select id, name from item.items where name ilike $1 or basic_code ilike $1 or implementation_code ilike $1 order by name, id limit 20`, [lit]);
      return r.rowCount;
    };
    const totals: Record<string, number> = {};
    for (const [, q] of queries) {
      // The number of matches (estimated for broad queries), for the record, not timed.
      const page = await runSearch(db, parseQuery(q), {}, 1, null);
      totals[q] = page.total;
    }
    const lat = { search: [] as number[], ilike: [] as number[] };
    const byKind: Record<string, { search: number[]; ilike: number[] }> = {};
    const byQuery: Record<string, number[]> = {};
    let rowsOut = { search: 0, ilike: 0 }, msTotal = { search: 0, ilike: 0 };
    for (const [, q] of queries) { await searchOnce(q); await ilikeOnce(q); }
    for (let round1 = 0; round1 < ROUNDS; round1++) {
      for (const [kind, q] of queries) {
        const k = (byKind[kind] ??= { search: [], ilike: [] });
        const s = await time(() => searchOnce(q));
        const b = await time(() => ilikeOnce(q));
        lat.search.push(s.ms); lat.ilike.push(b.ms); k.search.push(s.ms); k.ilike.push(b.ms);
        (byQuery[q] ??= []).push(s.ms);
        rowsOut.search += s.rows; rowsOut.ilike += b.rows; msTotal.search += s.ms; msTotal.ilike += b.ms;
      }
    }
    // Through the item subgraph over HTTP: GraphQL, identity assertion, highlighting, item loading.
    const svc = await createItemService({
      config: loadConfig({}), secrets: { internalSecret: SECRET, keyPassphrase: SECRET, cookieKeys: [SECRET] },
      internalKey: internalKey(SECRET), db, cache, clock: systemClock, log: silentLogger(),
    }, { port: 0 });
    const key = internalKey(SECRET);
    const gql = 'query ($q: String) { searchItems(query: $q, first: 20) { totalCount edges { cursor highlight { text match } node { id name agency { name } } } } }';
    const http: number[] = [];
    try {
      const call = async (q: string) => {
        const variables = { q };
        const res = await fetch(`${svc.url}/graphql`, { method: 'POST', headers: {
          'content-type': 'application/json', [IDENTITY_HEADER]: await signIdentity(key, { kind: 'anonymous' }, operationHash(gql, variables)) },
        body: JSON.stringify({ query: gql, variables }) });
        const body = await res.json() as { errors?: unknown };
        if (body.errors) throw new Error(JSON.stringify(body.errors));
      };
      for (const [, q] of queries) await call(q);
      for (let r1 = 0; r1 < Math.max(3, ROUNDS / 4); r1++) for (const [, q] of queries) { const t = performance.now(); await call(q); http.push(performance.now() - t); }
    } finally {
      await svc.close();
    }
    const figures: BenchResult['figures'] = {
      items: ITEMS, queries: queries.length, rounds: ROUNDS, loadSeconds: round(loadSeconds, 1),
      searchP50Ms: round(pct(lat.search, 50)), searchP95Ms: round(pct(lat.search, 95)), searchMaxMs: round(Math.max(...lat.search)),
      searchRowsPerSecond: Math.round(rowsOut.search / (msTotal.search / 1000)),
      baselineIlikeP50Ms: round(pct(lat.ilike, 50)), baselineIlikeP95Ms: round(pct(lat.ilike, 95)),
      baselineIlikeRowsPerSecond: Math.round(rowsOut.ilike / (msTotal.ilike / 1000)),
      p95RatioSearchToIlike: round(pct(lat.search, 95) / pct(lat.ilike, 95), 3),
      graphqlP50Ms: round(pct(http, 50)), graphqlP95Ms: round(pct(http, 95)),
      goalP95Ms: 20, goalMet: pct(lat.search, 95) <= 20,
      // The machine's load when the run ended (a shared machine: read the ILIKE baseline beside the figures).
      loadAverage1m: round(loadavg()[0] ?? 0),
    };
    for (const [kind, v] of Object.entries(byKind)) {
      figures[`search_${kind.replace(' ', '')}_p50Ms`] = round(pct(v.search, 50));
      figures[`search_${kind.replace(' ', '')}_p95Ms`] = round(pct(v.search, 95));
      figures[`ilike_${kind.replace(' ', '')}_p95Ms`] = round(pct(v.ilike, 95));
    }
    for (const [, q] of queries) {
      figures[`matches_${q}`] = totals[q] ?? 0;
      figures[`plan_${q}`] = plans[q] ?? null;
      figures[`p95Ms_${q}`] = round(pct(byQuery[q] ?? [], 95));
    }
    return {
      figures,
      top: { searchP50Ms: figures.searchP50Ms ?? null, searchP95Ms: figures.searchP95Ms ?? null, baselineIlikeP95Ms: figures.baselineIlikeP95Ms ?? null, goalMet: figures.goalMet ?? null },
      summary: [
        `${ITEMS} items loaded and indexed in ${figures.loadSeconds} s; ${queries.length} queries × ${ROUNDS} rounds`,
        `search (n-gram index, ranked, first 20 + total): p50 ${figures.searchP50Ms} ms, p95 ${figures.searchP95Ms} ms, ${figures.searchRowsPerSecond} rows/s`,
        `baseline ILIKE scan (unranked):                p50 ${figures.baselineIlikeP50Ms} ms, p95 ${figures.baselineIlikeP95Ms} ms, ${figures.baselineIlikeRowsPerSecond} rows/s`,
        ...Object.entries(byKind).map(([k, v]) => `  ${k.padEnd(8)} search p50 ${round(pct(v.search, 50))} ms, p95 ${round(pct(v.search, 95))} ms · ILIKE p95 ${round(pct(v.ilike, 95))} ms`),
        `through the item subgraph (GraphQL over HTTP, highlighting): p50 ${figures.graphqlP50Ms} ms, p95 ${figures.graphqlP95Ms} ms`,
        `goal p95 ≤ 20 ms: ${figures.goalMet ? 'met' : 'NOT met'}`,
      ],
    };
  } finally {
    await cache.close();
    await db.close();
    await scratch.drop();
  }
}

/** Development aid: load the generated catalogue into BENCH_SEARCH_PREPARE_ONLY (a database name) and keep it. */
async function prepareOnly(): Promise<BenchResult> {
  const name = process.env.BENCH_SEARCH_PREPARE_ONLY!;
  const admin = new pg.Client({ connectionString: BASE_DB });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(BASE_DB);
  url.pathname = `/${name}`;
  const db = await openDb({ url: url.toString(), poolSize: 2 });
  await migrate(db, ITEM_SCHEMA, ITEM_MIGRATIONS);
  const agencies = Array.from({ length: 300 }, (_, i) => agencyCode(i + 1));
  await load(db, agencies, generate(ITEMS, agencies));
  await db.close();
  return { figures: { prepared: name }, summary: [`catalogue kept in database ${name}`] };
}
