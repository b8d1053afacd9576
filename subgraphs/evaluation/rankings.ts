/**
 * Agency rankings (R-EV-5), computed from what the events recorded here: completed cases
 * (`case.completed`: apply mode, visits, whether a legal clock lapsed), ratings, and complaints.
 *
 * Period: the last EVALUATION_RANKING_WINDOW_DAYS days up to the period end, which is the latest
 * multiple of EVALUATION_RANKING_MINUTES (so every replica computing "now" picks the same end and
 * the snapshot, keyed by (period end, agency), is written once).
 *
 * Indicators (null when the period had nothing to count):
 *   online    = cases applied for online / cases completed              (全程网办率)
 *   onTime    = cases completed with no lapsed clock / cases completed  (按时办结率)
 *   satisfied = (average rating on the 5 = very satisfied scale − 1) / 4
 *   complaint = complaints answered by their deadline / complaints due  (投诉按时答复率)
 *   visits    = max(0, 1 − visits per case / 2): no visit 1, one visit 0.5, two or more 0
 *   consult   = max(0, 1 − average hours to the first answer of consultations / 24), over the
 *               consultations asked in the period and answered by its end: messages from their
 *               submission to the answer, live chats from opening to the first staff message
 *               (R-EV-2: answer time counts in performance)                    (咨询答复时长)
 * Score = 100 × Σ wᵢ·indicatorᵢ / Σ wᵢ over the indicators present, with weights
 *   online 0.25, onTime 0.25, satisfied 0.25, complaint 0.15, visits 0.10, consult 0.10.
 * Rank: by score, highest first; equal scores (to 0.01) share a rank (1, 2, 2, 4).
 */
import type { Db, Queryable } from '../../kernel/db.ts';

export const WEIGHTS = { online: 0.25, onTime: 0.25, satisfied: 0.25, complaint: 0.15, visits: 0.1, consult: 0.1 } as const;

export const FORMULA =
  '得分 = 100 × Σ(权重 × 指标) / Σ(有数据指标的权重)；指标：全程网办率 0.25、按时办结率 0.25、满意度 (平均分−1)/4 0.25、投诉按时答复率 0.15、跑动次数 max(0, 1 − 次数/2) 0.10、咨询首次答复时长 max(0, 1 − 小时/24) 0.10；统计周期为截至周期末的最近若干天。 ' +
  'Score = 100 × Σ(weight × indicator) / Σ(weights of indicators with data); indicators: online-handling rate 0.25, on-time completion rate 0.25, ' +
  'satisfaction (average − 1)/4 0.25, complaints answered on time 0.15, visits max(0, 1 − visits/2) 0.10, ' +
  'consultation first-answer time max(0, 1 − hours/24) 0.10; over the last days up to the period end.';

export interface Indicators {
  cases: number;
  onlineRate: number | null;
  onTimeRate: number | null;
  satisfaction: number | null;
  ratings: number;
  complaints: number;
  complaintOnTimeRate: number | null;
  complaintAnswerHours: number | null;
  visitsPerCase: number | null;
  /** Consultations (messages and closed live chats) asked in the period. */
  consultations?: number;
  /** Average minutes from a consultation to its first answer (live chats: the first staff message). */
  consultationAnswerMinutes?: number | null;
}

export interface RankingRecord extends Indicators {
  agencyCode: string;
  rank: number;
  score: number;
  periodStart: Date;
  periodEnd: Date;
  computedAt: Date;
}

/** The period a computation at `now` belongs to. */
export function periodAt(now: Date, intervalMinutes: number, windowDays: number): { start: Date; end: Date } {
  const step = intervalMinutes * 60_000;
  const end = new Date(Math.floor(now.getTime() / step) * step);
  return { start: new Date(end.getTime() - windowDays * 86_400_000), end };
}

/** Score of one agency's indicators, or null when it has none. */
export function score(i: Indicators): number | null {
  const parts: Array<[number, number | null]> = [
    [WEIGHTS.online, i.onlineRate],
    [WEIGHTS.onTime, i.onTimeRate],
    [WEIGHTS.satisfied, i.satisfaction === null ? null : (i.satisfaction - 1) / 4],
    [WEIGHTS.complaint, i.complaintOnTimeRate],
    [WEIGHTS.visits, i.visitsPerCase === null ? null : Math.max(0, 1 - i.visitsPerCase / 2)],
    [WEIGHTS.consult, i.consultationAnswerMinutes == null ? null : Math.max(0, 1 - i.consultationAnswerMinutes / 60 / 24)],
  ];
  let sum = 0, weights = 0;
  for (const [w, v] of parts) if (v !== null) { sum += w * v; weights += w; }
  return weights === 0 ? null : Math.round((100 * sum / weights) * 100) / 100;
}

/** Competition ranking: sorted by score desc then code; equal scores share the rank. */
export function rank<T extends { agencyCode: string; score: number }>(rows: T[]): Array<T & { rank: number }> {
  const sorted = [...rows].sort((a, b) => b.score - a.score || a.agencyCode.localeCompare(b.agencyCode));
  const out: Array<T & { rank: number }> = [];
  sorted.forEach((r, i) => {
    const prev = out[i - 1];
    out.push({ ...r, rank: prev && prev.score === r.score ? prev.rank : i + 1 });
  });
  return out;
}

const SCORE_OF_LEVEL = `case level when 'VERY_SATISFIED' then 5 when 'SATISFIED' then 4 when 'BASICALLY_SATISFIED' then 3 when 'DISSATISFIED' then 2 else 1 end`;

/** Every agency's indicators over [start, end). */
export async function indicators(q: Queryable, start: Date, end: Date): Promise<Map<string, Indicators>> {
  const cases = await q.query<{ agency_code: string; n: number; online: number; moded: number; on_time: number; clocked: number; visits: number | null }>(
    `select agency_code, count(*)::int as n,
       count(*) filter (where mode = 'ONLINE')::int as online, count(mode)::int as moded,
       count(*) filter (where overdue = false)::int as on_time, count(overdue)::int as clocked,
       avg(visits)::float8 as visits
     from evaluation.rateable_cases where completed_at >= $1 and completed_at < $2 group by agency_code`, [start, end]);
  const ratings = await q.query<{ agency_code: string; n: number; avg: number }>(
    `select agency_code, count(*)::int as n, avg(${SCORE_OF_LEVEL})::float8 as avg
     from evaluation.evaluations where created_at >= $1 and created_at < $2 group by agency_code`, [start, end]);
  // Complaints whose deadline fell in the period, answered or not by the period end.
  const complaints = await q.query<{ agency_code: string; n: number; on_time: number; hours: number | null }>(
    `select agency_code, count(*)::int as n,
       count(*) filter (where answered_at is not null and answered_at <= due_at)::int as on_time,
       avg(extract(epoch from (answered_at - submitted_at)) / 3600) filter (where answered_at is not null and answered_at < $2)::float8 as hours
     from evaluation.feedback where kind = 'COMPLAINT' and due_at >= $1 and due_at < $2 group by agency_code`, [start, end]);
  const consultations = await q.query<{ agency_code: string; n: number; minutes: number | null }>(
    `select agency_code, count(*)::int as n,
       avg(extract(epoch from (answered_at - submitted_at)) / 60) filter (where answered_at is not null and answered_at < $2)::float8 as minutes
     from evaluation.feedback where kind = 'CONSULTATION' and submitted_at >= $1 and submitted_at < $2 group by agency_code`, [start, end]);
  const out = new Map<string, Indicators>();
  const of = (code: string) => {
    let i = out.get(code);
    if (!i) {
      i = { cases: 0, onlineRate: null, onTimeRate: null, satisfaction: null, ratings: 0, complaints: 0, complaintOnTimeRate: null, complaintAnswerHours: null, visitsPerCase: null };
      out.set(code, i);
    }
    return i;
  };
  const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 10_000) / 10_000);
  const round = (v: number | null, d = 2) => (v === null ? null : Math.round(v * 10 ** d) / 10 ** d);
  for (const r of cases.rows) {
    Object.assign(of(r.agency_code), { cases: r.n, onlineRate: ratio(r.online, r.moded), onTimeRate: ratio(r.on_time, r.clocked), visitsPerCase: round(r.visits) });
  }
  for (const r of ratings.rows) Object.assign(of(r.agency_code), { ratings: r.n, satisfaction: round(r.avg) });
  for (const r of complaints.rows) {
    Object.assign(of(r.agency_code), { complaints: r.n, complaintOnTimeRate: ratio(r.on_time, r.n), complaintAnswerHours: round(r.hours, 1) });
  }
  for (const r of consultations.rows) {
    Object.assign(of(r.agency_code), { consultations: r.n, consultationAnswerMinutes: round(r.minutes, 1) });
  }
  return out;
}

/**
 * Compute and store the snapshot of the period `now` falls in, once: a second call (another
 * replica, a restart) for the same period end stores nothing. Returns whether it stored it.
 */
export async function computeRankings(db: Db, now: Date, intervalMinutes: number, windowDays: number): Promise<boolean> {
  const { start, end } = periodAt(now, intervalMinutes, windowDays);
  return db.tx(async (q) => {
    // One computation per period at a time, across replicas.
    await q.query('select pg_advisory_xact_lock(hashtext($1))', [`evaluation.rankings:${end.toISOString()}`]);
    const done = await q.query('select 1 from evaluation.rankings where period_end = $1 limit 1', [end]);
    if (done.rows.length > 0) return false;
    const scored = [...(await indicators(q, start, end)).entries()]
      .map(([agencyCode, i]) => ({ agencyCode, i, score: score(i) }))
      .filter((r): r is { agencyCode: string; i: Indicators; score: number } => r.score !== null);
    for (const r of rank(scored)) {
      await q.query(
        `insert into evaluation.rankings (period_end, agency_code, period_start, rank, score, indicators, computed_at)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing`,
        [end, r.agencyCode, start, r.rank, r.score, JSON.stringify(r.i), now]);
    }
    return true;
  });
}

interface Row { period_end: Date | string; agency_code: string; period_start: Date | string; rank: number; score: number; indicators: Indicators | string; computed_at: Date | string }

const toRecord = (r: Row): RankingRecord => ({
  ...(typeof r.indicators === 'string' ? JSON.parse(r.indicators) as Indicators : r.indicators),
  agencyCode: r.agency_code, rank: r.rank, score: r.score,
  periodStart: new Date(r.period_start), periodEnd: new Date(r.period_end), computedAt: new Date(r.computed_at),
});

/** The latest board, best first. */
export async function latestBoard(q: Queryable): Promise<RankingRecord[]> {
  const { rows } = await q.query<Row>(
    `select * from evaluation.rankings where period_end = (select max(period_end) from evaluation.rankings) order by rank, agency_code`);
  return rows.map(toRecord);
}

/** Each agency's place on the latest board (absent: not on it). */
export async function latestRankings(q: Queryable, codes: readonly string[]): Promise<RankingRecord[]> {
  if (codes.length === 0) return [];
  const { rows } = await q.query<Row>(
    `select * from evaluation.rankings where period_end = (select max(period_end) from evaluation.rankings) and agency_code = any($1::text[])`, [codes]);
  return rows.map(toRecord);
}
