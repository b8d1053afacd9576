/**
 * The search query (R-IT-7) over item.search_docs. A query whose rarest looked-up gram is held
 * by at most 2,000 items by PostgreSQL's statistics (candidateBound: 驾驶证, a fragment of a
 * credit code) is selective at once. Every other query first reads a sample: the 500 most
 * popular items (an index walk), testing the query and filters on each. That decides the plan:
 *
 * - **Selective** (a bounded candidate set, fewer than 1% of the sample match, or the sample is the whole catalogue):
 *   the GIN index on grams finds every candidate (grams held by more than 5% of items are tested
 *   on the rows instead), substring checks confirm codes and phrases, the filters narrow, and
 *   each match gets a score; the total is exact. Score (integer, higher first), summed over the terms:
 *     name equals the term 1000 · starts with it 600 · contains it 400 ·
 *     a code equals it 1000 · starts with it 600 · contains it 300 ·
 *     each of the term's bigrams in the name 60 · each of its characters in the name 10 ·
 *     a phrase in the materials or themes 100;
 *   plus popularity floor(15 · ln(1 + completed cases)). Ties: more popular, name, id.
 * - **Broad** (1% or more match: one character, 许可, a browse without query): ranking every
 *   match would cost time in proportion to the catalogue, so the list is built in relevance
 *   levels (levelSql: name equals the query, name contains every term, name holds every
 *   character, any other match), each read in popularity order straight from the popularity
 *   index and cut at the page size. A level is read on its own when the sample holds at least
 *   0.6% of it, else together with the next. Level 1 is read through the GIN index of its
 *   bigrams instead when they bound it to few items and a walk would read more (gramsReadPays:
 *   排污许, whose bigrams 排污 and 污许 are rare together). The total is estimated from the sample
 *   (totalCountExact false).
 *
 * Pagination is by keyset: the cursor carries the plan, the last row's sort values and a
 * digest of the query and filters, so it is refused with another search and the plan does
 * not change between pages.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../../../kernel/db.ts';
import { AppError } from '../../../kernel/errors.ts';
import type { ParsedQuery, Term } from './text.ts';

export interface SearchFilter {
  agencyCode?: string | null;
  typeCode?: string | null;
  /** POWER (administrative power, types 01-10) or SERVICE (public service, 20). */
  nature?: 'POWER' | 'SERVICE' | null;
  theme?: string | null;
  object?: string | null;
  level?: number | null;
  minOnlineDepth?: number | null;
  onlineHandling?: boolean | null;
}

export interface SearchRow {
  item_id: string;
  name: string;
  popularity: number;
  /** Selective plan: the score; broad plan: 2 − class (2 exact name, 1 name contains, 0 other). */
  score: number;
}

export type Plan = 'selective' | 'broad';

export interface SearchPage {
  plan: Plan;
  rows: SearchRow[];
  total: number;
  totalExact: boolean;
  hasNext: boolean;
  cursor: (r: SearchRow) => string;
  /** The end cursor when it is not the last row's (a walk that stopped before filling the page). */
  resume?: string | null;
  /** Broad plan: how each class read for this page was read (see ClassRead). */
  reads?: ClassRead[];
}

/**
 * How a class of the broad plan is read: `names` through the name index (level 0), `walk` in
 * popularity order along the popularity index, `grams` through the GIN index of its grams and
 * then sorted (level 1 when its grams bound it to few items, see gramsReadPays).
 */
export type ClassRead = 'names' | 'walk' | 'grams';

/** Plan thresholds; tests shrink them to exercise the broad plan on a small catalogue. */
export interface SearchTuning {
  /** Rows in the sample (the most popular items). */
  sampleSize: number;
  /** Sample matches at or above which a query is broad (default 1%). */
  broadMin: number;
  /** Sample matches of a level at or above which it is read on its own (default 0.5%). */
  classMin: number;
  /** Most rows read per step of a popularity walk, and walkChunk × walkMaxChunks rows at most per request. */
  walkChunk: number;
  walkMaxChunks: number;
  /**
   * A query whose rarest looked-up gram is held by at most this many items (candidateBound) is
   * selective without reading the sample: ranking that many rows costs a few milliseconds,
   * while a popularity walk for a match that is rare among the popular items costs more.
   * 0 leaves the decision to the sample.
   */
  selectiveMaxCandidates: number;
}

export const DEFAULT_TUNING: SearchTuning = { sampleSize: 500, broadMin: 5, classMin: 3, walkChunk: 1000, walkMaxChunks: 20, selectiveMaxCandidates: 2000 };

type Key = [number, number, string, string];

function digest(query: ParsedQuery, filter: SearchFilter): string {
  const f = Object.entries(filter).filter(([, v]) => v !== null && v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256').update(JSON.stringify([query.terms.map((t) => [t.phrase, t.text]), f])).digest('base64url').slice(0, 12);
}

interface Cursor { plan: Plan; groups: number[][]; key: Key }

/** Broad-plan groups as a short string: levels of a group joined, groups separated by '.'. */
const groupsText = (g: number[][]) => g.map((x) => x.join('')).join('.');
const GROUPS = /^[0-3]+(\.[0-3]+)*$/;

function encodeCursor(d: string, c: Cursor): string {
  return Buffer.from(JSON.stringify([d, c.plan === 'broad' ? groupsText(c.groups) : 's', ...c.key])).toString('base64url');
}

function decodeCursor(cursor: string, d: string): Cursor {
  let parsed: unknown;
  try { parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')); } catch { parsed = null; }
  const v = (Array.isArray(parsed) ? parsed : []) as unknown[];
  const ok = v.length === 6 && typeof v[0] === 'string' && typeof v[1] === 'string' && (v[1] === 's' || GROUPS.test(v[1]))
    && Number.isInteger(v[2]) && Number.isInteger(v[3])
    && typeof v[4] === 'string' && typeof v[5] === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v[5]);
  if (!ok) throw new AppError('BAD_INPUT', '翻页游标无效 / invalid cursor', { after: 'not a cursor of this search' });
  if (v[0] !== d) throw new AppError('BAD_INPUT', '翻页游标不属于本次搜索 / the cursor belongs to another search', { after: 'query or filters changed' });
  const groups = v[1] === 's' ? [] : (v[1] as string).split('.').map((g) => [...g].map(Number));
  return { plan: v[1] === 's' ? 'selective' : 'broad', groups, key: [v[2], v[3], v[4], v[5]] as Key };
}

class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string { this.values.push(v); return `$${this.values.length}`; }
}

function termScore(t: Term, p: Params): string {
  const x = p.add(t.text);
  const parts: string[] = [];
  if (t.kind === 'alnum' && !t.phrase) {
    parts.push(`case when strpos(d.codes, ' ' || ${x} || ' ') > 0 then 1000 when strpos(d.codes, ' ' || ${x}) > 0 then 600
      when strpos(d.codes, ${x}) > 0 then 300 else 0 end`);
  }
  parts.push(`case when d.name_norm = ${x} then 1000 when starts_with(d.name_norm, ${x}) then 600 when strpos(d.name_norm, ${x}) > 0 then 400 else 0 end`);
  if (t.phrase) parts.push(`case when strpos(d.body, ${x}) > 0 then 100 else 0 end`);
  else if (t.kind === 'han') {
    for (const b of t.bigrams) parts.push(`(strpos(d.name_norm, ${p.add(b)}) > 0)::int * 60`);
    for (const c of t.required) parts.push(`(strpos(d.name_norm, ${p.add(c)}) > 0)::int * 10`);
  }
  return parts.join(' + ');
}

function filterSql(f: SearchFilter, p: Params): string[] {
  const w: string[] = [];
  if (f.agencyCode) w.push(`d.agency_code = ${p.add(f.agencyCode)}`);
  if (f.typeCode) w.push(`d.type_code = ${p.add(f.typeCode)}`);
  if (f.nature === 'SERVICE') w.push(`d.type_code = '20'`);
  if (f.nature === 'POWER') w.push(`d.type_code <> '20'`);
  if (f.theme) w.push(`d.themes @> array[${p.add(f.theme)}::text]`);
  if (f.object) w.push(`d.objects @> array[${p.add(f.object)}::text]`);
  if (f.level !== null && f.level !== undefined) w.push(`d.level = ${p.add(f.level)}`);
  if (f.minOnlineDepth !== null && f.minOnlineDepth !== undefined) w.push(`d.online_depth >= ${p.add(f.minOnlineDepth)}`);
  if (f.onlineHandling !== null && f.onlineHandling !== undefined) w.push(`d.online_handling = ${p.add(f.onlineHandling)}`);
  return w;
}

/**
 * The match predicate: grams, substring checks, filters (each part a SQL condition). With
 * `viaIndex` the characters of fuzzy terms are tested on the GIN-indexed grams; without, on the
 * texts themselves (the same answer: grams are cut from these texts), which is cheaper for rows
 * already read in popularity order.
 */
function matchSql(query: ParsedQuery, filter: SearchFilter, p: Params, viaIndex: boolean, stats?: GramStats): string[] {
  const where: string[] = [];
  const required = [...new Set(query.terms.flatMap((t) => t.required))];
  const indexed = viaIndex ? indexGrams(required, stats) : [];
  if (indexed.length > 0) where.push(`d.grams @> ${p.add(indexed)}::text[]`);
  for (const t of query.terms) {
    if (t.substring !== null) continue;
    for (const c of t.required) {
      if (indexed.includes(c)) continue;
      const x = p.add(c);
      where.push(`(strpos(d.name_norm, ${x}) > 0 or strpos(d.body, ${x}) > 0)`);
    }
  }
  for (const t of query.terms) {
    if (t.substring === null) continue;
    const x = p.add(t.substring);
    where.push(`(strpos(d.name_norm, ${x}) > 0 or strpos(d.codes, ${x}) > 0 or strpos(d.body, ${x}) > 0)`);
  }
  where.push(...filterSql(filter, p));
  return where;
}

/**
 * Gram frequencies from PostgreSQL's statistics of the grams column (most_common_elems, kept
 * by ANALYZE; absent on a fresh or embedded database, then every gram counts as rare).
 */
export type GramStats = ReadonlyMap<string, number>;

/** Above this share of items a gram is a stop-gram: testing it on the row is cheaper than intersecting its list. */
export const STOP_GRAM_FREQUENCY = 0.05;

/**
 * The grams to look up in the GIN index: those held by at most 5% of items; when every gram is
 * that common, the two least common. The others are tested on the candidate rows instead
 * (substring checks), which gives the same answer: `0001` and `许` cost a long posting list
 * each and narrow almost nothing.
 */
export function indexGrams(required: readonly string[], stats?: GramStats): string[] {
  if (!stats || stats.size === 0) return [...required];
  const f = (g: string) => stats.get(g) ?? 0;
  const rare = required.filter((g) => f(g) <= STOP_GRAM_FREQUENCY);
  return rare.length > 0 ? rare : [...required].sort((a, b) => f(a) - f(b)).slice(0, 2);
}

/** Gram frequencies with what bounds the grams not listed, and the catalogue size. */
export interface GramStatistics {
  freq: GramStats;
  /** The lowest listed frequency: a gram not listed is held by fewer items than this. */
  floor: number;
  /** Items in the catalogue (the planner's estimate). */
  items: number;
}

/** Statistics per database handle, read again after GRAM_STATS_TTL_MS. */
const statsCache = new WeakMap<Queryable, { at: number; stats: GramStatistics }>();
export const GRAM_STATS_TTL_MS = 60_000;

export async function gramStats(db: Queryable, now = Date.now()): Promise<GramStatistics> {
  const cached = statsCache.get(db);
  if (cached && now - cached.at < GRAM_STATS_TTL_MS) return cached.stats;
  const { rows } = await db.query<{ elems: string[] | null; freqs: number[] | null; items: number | null }>(
    `select s.most_common_elems::text::text[] as elems, s.most_common_elem_freqs::float8[] as freqs,
       (select greatest(reltuples, 0)::float8 from pg_class where oid = 'item.search_docs'::regclass) as items
     from (select 1) one left join pg_stats s on s.schemaname = 'item' and s.tablename = 'search_docs' and s.attname = 'grams'`);
  const freq = new Map<string, number>();
  const r = rows[0];
  // most_common_elem_freqs ends with three more numbers (lowest, highest, null frequency).
  if (r?.elems && r.freqs) r.elems.forEach((g, i) => freq.set(g, Number(r.freqs![i])));
  const stats = { freq, floor: freq.size > 0 ? Math.min(...freq.values()) : 1, items: Number(r?.items ?? 0) };
  statsCache.set(db, { at: now, stats });
  return stats;
}

/**
 * At most how many items the GIN lookup of a query can yield, from the statistics: the catalogue
 * size times the frequency of its rarest looked-up gram (a gram not listed counts as the lowest
 * listed frequency). Null without statistics or grams (then the sample decides).
 */
export function candidateBound(query: ParsedQuery, stats: GramStatistics): number | null {
  if (stats.freq.size === 0 || stats.items <= 0) return null;
  const required = [...new Set(query.terms.flatMap((t) => t.required))];
  return gramBound(indexGrams(required, stats.freq), stats);
}

/** At most how many items hold every one of `grams`: the catalogue times the rarest one's frequency. */
function gramBound(grams: readonly string[], stats: GramStatistics): number | null {
  if (stats.freq.size === 0 || stats.items <= 0 || grams.length === 0) return null;
  return Math.round(stats.items * Math.min(...grams.map((g) => stats.freq.get(g) ?? stats.floor)));
}

/**
 * The grams every item whose name contains every term as written holds (the broad plan's level
 * 1): each Han term's bigrams (its character when it has one), each code term's looked-up
 * grams; both are cut from the name as from the query. Null with a phrase or no term.
 */
export function containsGrams(query: ParsedQuery): string[] | null {
  if (query.terms.length === 0 || query.terms.some((t) => t.phrase)) return null;
  return [...new Set(query.terms.flatMap((t) => (t.kind === 'han' && t.bigrams.length > 0 ? t.bigrams : t.required)))];
}

/**
 * At most how many items the level 1 class (names containing every term) can hold, from the
 * statistics of its grams (containsGrams): `排污许` has no rare character, but its bigram 污许 is
 * held by 1.6% of items. Null without statistics (then the class is walked).
 */
export function containsBound(query: ParsedQuery, stats: GramStatistics): number | null {
  const grams = containsGrams(query);
  return grams ? gramBound(grams, stats) : null;
}

const and = (parts: string[]) => (parts.length > 0 ? parts.map((x) => `(${x})`).join(' and ') : 'true');

/**
 * Relevance level of a row for the broad plan: 0 the name is the query, 1 the name contains
 * every term as written, 2 the name holds every character of every fuzzy term (and the other
 * terms as written), 3 any other match (materials, themes, codes).
 */
function levelSql(query: ParsedQuery, p: Params): string {
  if (query.terms.length === 0) return '3';
  const exact = query.terms.length === 1 ? `d.name_norm = ${p.add(query.terms[0]!.text)}` : 'false';
  const contains = and(query.terms.map((t) => `strpos(d.name_norm, ${p.add(t.text)}) > 0`));
  const fuzzy = and(query.terms.flatMap((t) => (t.substring === null
    ? t.required.map((c) => `strpos(d.name_norm, ${p.add(c)}) > 0`)
    : [`strpos(d.name_norm, ${p.add(t.text)}) > 0`])));
  return `case when ${exact} then 0 when ${contains} then 1 when ${fuzzy} then 2 else 3 end`;
}

const ORDER = 'd.popularity desc, d.name collate "C", d.item_id';

function keysetSql(key: Key | null, scoreExpr: string, p: Params): string {
  if (!key) return 'true';
  const [s, pop, name, id] = key;
  const S = p.add(s), P = p.add(pop), N = p.add(name), I = p.add(id);
  return `(${scoreExpr} < ${S} or (${scoreExpr} = ${S} and (d.popularity < ${P} or (d.popularity = ${P}
    and (d.name collate "C" > ${N} or (d.name = ${N} and d.item_id > ${I}::uuid))))))`;
}

/** SQL of the selective plan (exported for EXPLAIN in the benchmark). */
export function selectiveSql(query: ParsedQuery, filter: SearchFilter, first: number, key: Key | null, stats?: GramStats): { sql: string; params: unknown[] } {
  const p = new Params();
  const where = matchSql(query, filter, p, true, stats);
  const score = query.terms.length === 0 ? '0' : query.terms.map((t) => `(${termScore(t, p)})`).join(' + ')
    + ' + floor(15 * ln(1 + greatest(d.popularity, 0)))::int';
  const hits = `select d.item_id, d.name, d.popularity, (${score})::int as score from item.search_docs d where ${and(where)}`;
  const k = keysetSql(key, 'd.score', p);
  const limit = p.add(first + 1);
  const sql = `with hits as (${hits}), counted as (select *, count(*) over () as total from hits)
    select d.item_id, d.name, d.popularity, d.score, d.total from counted d where ${k}
    order by d.score desc, ${ORDER} limit ${limit}`;
  return { sql, params: p.values };
}

interface Sample { seen: number; hits: number; levels: [number, number, number, number] }

async function sample(db: Queryable, query: ParsedQuery, filter: SearchFilter, t: SearchTuning): Promise<Sample> {
  const p = new Params();
  const m = and(matchSql(query, filter, p, false));
  const l = levelSql(query, p);
  const { rows } = await db.query<{ seen: number; hits: number; l0: number; l1: number; l2: number; l3: number }>(
    `select count(*)::int as seen, count(*) filter (where m)::int as hits,
       count(*) filter (where m and l = 0)::int as l0, count(*) filter (where m and l = 1)::int as l1,
       count(*) filter (where m and l = 2)::int as l2, count(*) filter (where m and l = 3)::int as l3
     from (select ${m} as m, ${l} as l from item.search_docs d order by ${ORDER} limit ${t.sampleSize}) x`, p.values);
  const r = rows[0]!;
  return { seen: r.seen, hits: r.hits, levels: [r.l0, r.l1, r.l2, r.l3] };
}

/**
 * Groups of levels read one after the other: level 0 alone (names equal to the query are few
 * and found through the name index), levels 1 and 2 alone when the sample shows enough of them
 * to read in popularity order cheaply, else merged into the next; level 3 closes.
 */
function groupsOf(s: Sample, t: SearchTuning): number[][] {
  const groups: number[][] = [[0]];
  let pending: number[] = [];
  for (const level of [1, 2, 3]) {
    pending.push(level);
    if (level === 3 || s.levels[level]! >= t.classMin) { groups.push(pending); pending = []; }
  }
  return groups;
}

async function catalogueSize(db: Queryable): Promise<number> {
  // The planner's estimate is good enough for an estimated total, and costs nothing.
  const { rows } = await db.query<{ n: number }>(`select greatest(reltuples, 0)::float8 as n from pg_class where oid = 'item.search_docs'::regclass`);
  const n = Number(rows[0]?.n ?? 0);
  if (n > 0) return n;
  // Never analysed (a fresh database, or PGlite, which runs no autovacuum): count.
  return Number((await db.query<{ n: number }>('select count(*)::int as n from item.search_docs')).rows[0]?.n ?? 0);
}

interface WalkResult { rows: SearchRow[]; /** Where the walk stopped when it ran out of steps before finding `limit` rows. */ stoppedAt: Key | null }

/**
 * A row walked in popularity order costs about twice a row read through the gram index and
 * sorted (EXPLAIN ANALYZE on the benchmark catalogue, 排污许: the walk tests 2,000 rows on 2,026
 * heap pages in 10 ms; the bitmap read of its bigrams 排污 and 污许 finds 1,590 rows on 621 pages
 * and sorts them in 3.5-6 ms).
 */
export const WALK_ROW_COST = 2;

/**
 * Whether level 1 is cheaper to read through its grams than by walking: its grams bound it to at
 * most selectiveMaxCandidates items, and walking would read more rows than half that bound
 * (about `limit` / the class's density in the sample).
 */
export function gramsReadPays(bound: number | null, density: number, limit: number, t: SearchTuning): boolean {
  if (bound === null || t.selectiveMaxCandidates <= 0 || bound > t.selectiveMaxCandidates) return false;
  return bound <= WALK_ROW_COST * (limit / Math.max(density, 0.001));
}

/**
 * Read level 1 through the GIN index of its grams (containsGrams): every item holding them is
 * read once (a bitmap scan, materialised so the planner cannot turn it back into a walk of the
 * popularity index), tested, and the page sorted in popularity order after `key`. The same rows
 * in the same order as a walk of the class.
 */
async function gramsGroup(db: Queryable, query: ParsedQuery, filter: SearchFilter, group: number, grams: string[], key: Key | null, limit: number): Promise<WalkResult> {
  const p = new Params();
  const g = p.add(grams);
  const where = [...matchSql(query, filter, p, false), `${levelSql(query, p)} = 1`];
  if (key) where.push(keysetSql([0, key[1], key[2], key[3]], '0', p));
  const { rows } = await db.query<SearchRow>(
    `with c as materialized (select d.item_id, d.name, d.popularity from item.search_docs d where d.grams @> ${g}::text[] and ${and(where)})
     select d.item_id, d.name, d.popularity, ${group} as score from c d order by ${ORDER} limit ${p.add(limit)}`, p.values);
  return { rows: rows.map((r) => ({ ...r, popularity: Number(r.popularity), score: Number(r.score) })), stoppedAt: null };
}

/**
 * Read one group of the broad plan in popularity order after `key`: the popularity index is
 * walked a chunk at a time (an index range the planner cannot turn into a full sort) and each
 * chunk's rows tested. A walk that reads walkMaxChunks chunks without filling the page stops
 * there; the page is then shorter, and its cursor continues the walk.
 */
async function broadGroup(db: Queryable, query: ParsedQuery, filter: SearchFilter, group: number, levels: number[], key: Key | null, limit: number, t: SearchTuning, density: number): Promise<WalkResult> {
  if (levels.length === 1 && levels[0] === 0) {
    // Equality on the name, so the name index finds them: few rows, sorted here.
    if (query.terms.length !== 1) return { rows: [], stoppedAt: null };
    const p = new Params();
    const where = [...matchSql(query, filter, p, false), `d.name_norm = ${p.add(query.terms[0]!.text)}`];
    if (key) where.push(keysetSql([0, key[1], key[2], key[3]], '0', p));
    const { rows } = await db.query<SearchRow>(
      `select d.item_id, d.name, d.popularity, ${group} as score from item.search_docs d where ${and(where)} order by ${ORDER} limit ${p.add(limit)}`, p.values);
    return { rows: rows.map((r) => ({ ...r, popularity: Number(r.popularity), score: Number(r.score) })), stoppedAt: null };
  }
  const out: SearchRow[] = [];
  let pos: Key | null = key;
  // The first step reads about what the sample's density says the page needs (half as much
  // again, plus a margin); each further step four times more, up to walkChunk rows a step and
  // walkChunk × walkMaxChunks rows in all.
  let chunk = Math.min(t.walkChunk, Math.max(32, Math.ceil((limit / Math.max(density, 0.001)) * 1.5) + 16));
  let budget = t.walkChunk * t.walkMaxChunks;
  while (budget > 0) {
    chunk = Math.min(chunk, budget);
    budget -= chunk;
    const p = new Params();
    const l = levelSql(query, p);
    const hit = and([...matchSql(query, filter, p, false), levels.length === 1 ? `${l} = ${levels[0]}` : `${l} in (${levels.join(', ')})`]);
    const after = pos ? keysetSql([0, pos[1], pos[2], pos[3]], '0', p) : 'true';
    const { rows } = await db.query<{ item_id: string; name: string; popularity: number; hit: boolean; last: boolean; n: number }>(
      `with scan as (
         select d.item_id, d.name, d.popularity, ${hit} as hit from item.search_docs d where ${after} order by ${ORDER} limit ${chunk}
       ), numbered as (
         select s.*, row_number() over (order by s.popularity desc, s.name collate "C", s.item_id) as rn, count(*) over () as n from scan s
       )
       select item_id, name, popularity, hit, rn = n as last, n from numbered where hit or rn = n order by rn`, p.values);
    for (const r of rows) {
      if (!r.hit) continue;
      out.push({ item_id: r.item_id, name: r.name, popularity: Number(r.popularity), score: group });
      if (out.length >= limit) return { rows: out, stoppedAt: null };
    }
    const last = rows.find((r) => r.last);
    // A short chunk is the end of the catalogue.
    if (!last || Number(last.n) < chunk) return { rows: out, stoppedAt: null };
    pos = [0, Number(last.popularity), last.name, last.item_id];
    chunk = Math.min(t.walkChunk, chunk * 4);
  }
  return { rows: out, stoppedAt: pos };
}

export async function runSearch(db: Queryable, query: ParsedQuery, filter: SearchFilter, first: number, after: string | null, t: SearchTuning = DEFAULT_TUNING): Promise<SearchPage> {
  const d = digest(query, filter);
  const cur = after === null ? null : decodeCursor(after, d);
  let plan: Plan;
  let groups: number[][] = [];
  let estimate: Sample | null = null;
  if (cur) {
    plan = cur.plan;
    groups = cur.groups;
    // Later pages of a broad result estimate the total again (the sample is cheap).
    if (plan === 'broad') estimate = await sample(db, query, filter, t);
  } else {
    const bound = t.selectiveMaxCandidates > 0 ? candidateBound(query, await gramStats(db)) : null;
    if (bound !== null && bound <= t.selectiveMaxCandidates) plan = 'selective';
    else {
      estimate = await sample(db, query, filter, t);
      plan = estimate.seen >= t.sampleSize && estimate.hits >= t.broadMin ? 'broad' : 'selective';
      if (plan === 'broad') groups = groupsOf(estimate, t);
    }
  }
  if (plan === 'selective') {
    const { sql, params } = selectiveSql(query, filter, first, cur?.key ?? null, (await gramStats(db)).freq);
    const { rows } = await db.query<SearchRow & { total: number }>(sql, params);
    const page = rows.slice(0, first).map((r) => ({ item_id: r.item_id, name: r.name, score: Number(r.score), popularity: Number(r.popularity) }));
    return {
      plan, rows: page, hasNext: rows.length > first, totalExact: true,
      total: rows[0] ? Number(rows[0].total) : (cur ? await selectiveCount(db, query, filter) : 0),
      cursor: (r) => encodeCursor(d, { plan, groups: [], key: [r.score, r.popularity, r.name, r.item_id] }),
    };
  }
  // Broad: groups in order, starting at the cursor's group. The score is the group's rank, highest first.
  const out: SearchRow[] = [];
  const rank = (g: number) => groups.length - 1 - g;
  const startGroup = cur ? groups.length - 1 - cur.key[0] : 0;
  if (startGroup < 0 || startGroup >= groups.length) throw new AppError('BAD_INPUT', '翻页游标无效 / invalid cursor', { after: 'not a cursor of this search' });
  const est = estimate!;
  let stoppedAt: Key | null = null;
  const reads: ClassRead[] = [];
  const grams = containsGrams(query);
  const bound = grams && t.selectiveMaxCandidates > 0 && groups.some((x) => x.length === 1 && x[0] === 1) ? containsBound(query, await gramStats(db)) : null;
  for (let g = startGroup; g < groups.length && out.length <= first; g++) {
    const key = cur && g === startGroup ? cur.key : null;
    const density = est ? groups[g]!.reduce((n, l) => n + est.levels[l]!, 0) / Math.max(est.seen, 1) : 0.01;
    const limit = first + 1 - out.length;
    const level1 = groups[g]!.length === 1 && groups[g]![0] === 1;
    const read: ClassRead = groups[g]!.length === 1 && groups[g]![0] === 0 ? 'names'
      : level1 && grams && gramsReadPays(bound, density, limit, t) ? 'grams' : 'walk';
    reads.push(read);
    const walk = read === 'grams' ? await gramsGroup(db, query, filter, rank(g), grams!, key, limit)
      : await broadGroup(db, query, filter, rank(g), groups[g]!, key, limit, t, density);
    out.push(...walk.rows);
    if (walk.stoppedAt) { stoppedAt = [rank(g), walk.stoppedAt[1], walk.stoppedAt[2], walk.stoppedAt[3]]; break; }
  }
  const size = await catalogueSize(db);
  const page = out.slice(0, first);
  return {
    plan, rows: page, hasNext: out.length > first || stoppedAt !== null, totalExact: false, reads,
    // A walk that stopped early continues from where it stopped, not from the last row shown.
    resume: stoppedAt && out.length <= first ? encodeCursor(d, { plan, groups, key: stoppedAt }) : null,
    total: Math.max(est.hits, Math.round((est.hits / est.seen) * size)),
    cursor: (r) => encodeCursor(d, { plan, groups, key: [r.score, r.popularity, r.name, r.item_id] }),
  };
}

/** The size of a selective result when a page past its end holds no row to carry the count. */
async function selectiveCount(db: Queryable, query: ParsedQuery, filter: SearchFilter): Promise<number> {
  const p = new Params();
  const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from item.search_docs d where ${and(matchSql(query, filter, p, true, (await gramStats(db)).freq))}`, p.values);
  return rows[0]?.n ?? 0;
}
