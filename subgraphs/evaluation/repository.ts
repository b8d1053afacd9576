/**
 * SQL of the evaluation service (schema `evaluation`). Rows are mapped to plain records here.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../kernel/db.ts';
import { pgCode } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import type { SatisfactionLevel } from './levels.ts';

/** A completed case that its applicant may rate (from `case.completed`). */
export interface RateableCase {
  caseId: string;
  caseNumber: string | null;
  applicantId: string;
  itemId: string;
  agencyCode: string;
  outcomeCode: string;
  completedAt: Date;
  /** For the rankings (R-EV-5); null when the event did not carry them. */
  mode?: string | null;
  visits?: number | null;
  overdue?: boolean | null;
  submittedAt?: Date | null;
}

export interface EvaluationRecord {
  id: string;
  caseId: string;
  applicantId: string;
  itemId: string;
  agencyCode: string;
  level: SatisfactionLevel;
  reason: string | null;
  channel: number;
  createdAt: Date;
}

interface EvaluationRow {
  id: string;
  case_id: string;
  applicant_id: string;
  item_id: string;
  agency_code: string;
  level: SatisfactionLevel;
  reason: string | null;
  channel: number;
  created_at: Date | string;
}

const COLUMNS = 'id, case_id, applicant_id, item_id, agency_code, level, reason, channel, created_at';

function toRecord(r: EvaluationRow): EvaluationRecord {
  return {
    id: r.id, caseId: r.case_id, applicantId: r.applicant_id, itemId: r.item_id, agencyCode: r.agency_code,
    level: r.level, reason: r.reason, channel: r.channel, createdAt: new Date(r.created_at),
  };
}

/** Record a case as rateable; a second event for the same case changes nothing. */
export async function recordRateable(q: Queryable, c: RateableCase, now: Date): Promise<boolean> {
  const r = await q.query(
    `insert into evaluation.rateable_cases (case_id, case_number, applicant_id, item_id, agency_code, outcome_code, completed_at, recorded_at,
       mode, visits, overdue, submitted_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) on conflict (case_id) do nothing`,
    [c.caseId, c.caseNumber, c.applicantId, c.itemId, c.agencyCode, c.outcomeCode, c.completedAt, now,
      c.mode ?? null, c.visits ?? null, c.overdue ?? null, c.submittedAt ?? null]);
  return r.rowCount > 0;
}

export interface NewEvaluation {
  caseId: string;
  applicantId: string;
  level: SatisfactionLevel;
  reason: string | null;
  channel: number;
  now: Date;
}

/**
 * Store a rating in one statement: it inserts only when the case is rateable and the caller is
 * its applicant (null otherwise), and the unique constraint decides between concurrent attempts.
 */
export async function insertEvaluation(q: Queryable, e: NewEvaluation): Promise<EvaluationRecord | null> {
  try {
    const { rows } = await q.query<EvaluationRow>(
      `insert into evaluation.evaluations (id, case_id, applicant_id, item_id, agency_code, level, reason, channel, created_at)
       select $1, c.case_id, c.applicant_id, c.item_id, c.agency_code, $4, $5, $6, $7
       from evaluation.rateable_cases c where c.case_id = $2 and c.applicant_id = $3
       returning ${COLUMNS}`,
      [randomUUID(), e.caseId, e.applicantId, e.level, e.reason, e.channel, e.now]);
    return rows[0] ? toRecord(rows[0]) : null;
  } catch (err) {
    if (pgCode(err) === '23505') throw new AppError('ALREADY_RATED', '该办件已评价 / this case has already been rated');
    throw err;
  }
}

export async function evaluationsByCaseIds(q: Queryable, caseIds: readonly string[]): Promise<EvaluationRecord[]> {
  if (caseIds.length === 0) return [];
  const { rows } = await q.query<EvaluationRow>(`select ${COLUMNS} from evaluation.evaluations where case_id = any($1::text[])`, [caseIds]);
  return rows.map(toRecord);
}

export async function evaluationsByIds(q: Queryable, ids: readonly string[]): Promise<EvaluationRecord[]> {
  if (ids.length === 0) return [];
  const { rows } = await q.query<EvaluationRow>(`select ${COLUMNS} from evaluation.evaluations where id = any($1::uuid[])`, [ids]);
  return rows.map(toRecord);
}

/** How many ratings each item has at each level (the average is computed from the level table). */
export async function levelCountsByItems(q: Queryable, itemIds: readonly string[]): Promise<Array<{ itemId: string; level: SatisfactionLevel; count: number }>> {
  if (itemIds.length === 0) return [];
  const { rows } = await q.query<{ item_id: string; level: SatisfactionLevel; n: number }>(
    `select item_id, level, count(*)::int as n from evaluation.evaluations where item_id = any($1::text[]) group by item_id, level`, [itemIds]);
  return rows.map((r) => ({ itemId: r.item_id, level: r.level, count: r.n }));
}
