/**
 * The follow-up of a bad rating (差评整改, R-EV-4). A dissatisfied or very dissatisfied rating
 * opens a follow-up in the same transaction as the rating, due EVALUATION_FOLLOW_UP_WORKING_DAYS
 * working days later. The decider of the rated agency:
 *
 *   VERIFYING ──verify(upheld)──▶ RECTIFYING ──rectify──▶ RECTIFIED
 *       └──────verify(not upheld, reason)──────────────▶ NOT_UPHELD
 *
 * Both end states carry an answer the citizen reads on their rating. A follow-up not ended by its
 * deadline gets one accountability record (by the scan, or when it is ended late), and counts in
 * the public summary. Each step is compare-and-set on (state, version): concurrent deciders get
 * one step and one CONFLICT.
 */
import { requiredText } from './text.ts';
import { isUuid } from '../../kernel/ids.ts';
import type { WorkingCalendar } from '../../kernel/calendar.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Db, Queryable } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Caller } from '../../kernel/internal-auth.ts';

export type FollowUpState = 'VERIFYING' | 'RECTIFYING' | 'RECTIFIED' | 'NOT_UPHELD';
export const FOLLOW_UP_STATES: readonly FollowUpState[] = ['VERIFYING', 'RECTIFYING', 'RECTIFIED', 'NOT_UPHELD'];
const NOTE_MAX = 1000;

export interface FollowUpRecord {
  evaluationId: string;
  agencyCode: string;
  state: FollowUpState;
  createdAt: Date;
  dueAt: Date;
  verificationNote: string | null;
  verifiedAt: Date | null;
  measures: string | null;
  answer: string | null;
  answeredAt: Date | null;
  version: number;
  overdue: boolean;
}

const COLUMNS = `f.evaluation_id, f.agency_code, f.state, f.created_at, f.due_at, f.verification_note, f.verified_at, f.measures,
  f.answer, f.answered_at, f.version,
  exists (select 1 from evaluation.accountability a where a.kind = 'RATING_FOLLOW_UP' and a.subject_id = f.evaluation_id) as late`;

interface Row {
  evaluation_id: string; agency_code: string; state: FollowUpState; created_at: Date | string; due_at: Date | string;
  verification_note: string | null; verified_at: Date | string | null; measures: string | null; answer: string | null;
  answered_at: Date | string | null; version: number; late: boolean;
}

const date = (v: Date | string | null) => (v === null ? null : new Date(v));

function toRecord(r: Row, now: Date): FollowUpRecord {
  const ended = r.state === 'RECTIFIED' || r.state === 'NOT_UPHELD';
  return {
    evaluationId: r.evaluation_id, agencyCode: r.agency_code, state: r.state, createdAt: new Date(r.created_at), dueAt: new Date(r.due_at),
    verificationNote: r.verification_note, verifiedAt: date(r.verified_at), measures: r.measures, answer: r.answer,
    answeredAt: date(r.answered_at), version: r.version,
    overdue: r.late || (!ended && now > new Date(r.due_at)),
  };
}

/** Open the follow-up of a bad rating; runs in the rating's transaction. */
export async function openFollowUp(q: Queryable, calendar: WorkingCalendar, days: number, evaluationId: string, agencyCode: string, now: Date): Promise<void> {
  await q.query(
    `insert into evaluation.follow_ups (evaluation_id, agency_code, state, created_at, due_at) values ($1, $2, 'VERIFYING', $3, $4)
     on conflict do nothing`, [evaluationId, agencyCode, now, calendar.addWorkingDays(now, days)]);
}

export async function followUpsByEvaluation(q: Queryable, ids: readonly string[], now: Date): Promise<FollowUpRecord[]> {
  if (ids.length === 0) return [];
  const { rows } = await q.query<Row>(`select ${COLUMNS} from evaluation.follow_ups f where f.evaluation_id = any($1::uuid[])`, [ids]);
  return rows.map((r) => toRecord(r, now));
}

export async function followUpQueue(q: Queryable, agencyCode: string, state: FollowUpState, first: number, now: Date): Promise<FollowUpRecord[]> {
  const { rows } = await q.query<Row>(
    `select ${COLUMNS} from evaluation.follow_ups f where f.agency_code = $1 and f.state = $2 order by f.due_at, f.evaluation_id limit $3`,
    [agencyCode, state, first]);
  return rows.map((r) => toRecord(r, now));
}



/** Lock the follow-up for the decider of its agency; anyone else is told it does not exist. */
async function lockFor(q: Queryable, caller: Caller, evaluationId: string, now: Date): Promise<{ f: FollowUpRecord; staff: Extract<Caller, { kind: 'staff' }> }> {
  if (caller.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', '请先登录 / please log in');
  const notFound = () => new AppError('FOLLOW_UP_NOT_FOUND', '没有该差评整改记录 / no follow-up for this rating');
  if (!isUuid(evaluationId)) throw notFound();
  const { rows } = await q.query<Row>(`select ${COLUMNS} from evaluation.follow_ups f where f.evaluation_id = $1 for update of f`, [evaluationId]);
  const f = rows[0] ? toRecord(rows[0], now) : null;
  if (!f || caller.kind !== 'staff' || caller.agency !== f.agencyCode) throw notFound();
  if (!caller.roles.includes('decider')) throw new AppError('ROLE_REQUIRED', `this action needs the decider role in agency ${f.agencyCode}`);
  return { f, staff: caller };
}

function expect(f: FollowUpRecord, state: FollowUpState, version: number | null | undefined): void {
  if (f.state !== state) throw new AppError('FOLLOW_UP_STATE_INVALID', `该记录当前状态为 ${f.state} / the follow-up is ${f.state}`, { state: f.state });
  if (version !== undefined && version !== null && version !== f.version) throw new AppError('CONFLICT', '记录已变更，请刷新 / changed meanwhile; reload');
}

async function lateIfPast(q: Queryable, f: FollowUpRecord, now: Date): Promise<void> {
  if (now <= f.dueAt) return;
  await q.query(
    `insert into evaluation.accountability (kind, subject_id, agency_code, due_at, at) values ('RATING_FOLLOW_UP', $1, $2, $3, $4) on conflict do nothing`,
    [f.evaluationId, f.agencyCode, f.dueAt, now]);
}

export async function verifyBadRating(db: Db, clock: Clock, caller: Caller, evaluationId: string, upheld: boolean, noteText: unknown, version?: number | null): Promise<FollowUpRecord> {
  const n = requiredText('note', noteText, NOTE_MAX);
  const now = clock.now();
  return db.tx(async (q) => {
    const { f, staff } = await lockFor(q, caller, evaluationId, now);
    expect(f, 'VERIFYING', version);
    if (upheld) {
      await q.query(
        `update evaluation.follow_ups set state = 'RECTIFYING', verified_by_name = $2, verified_at = $3, verification_note = $4, version = version + 1
         where evaluation_id = $1`, [f.evaluationId, staff.name, now, n]);
    } else {
      // Not upheld: the verification is the answer the citizen reads.
      await q.query(
        `update evaluation.follow_ups set state = 'NOT_UPHELD', verified_by_name = $2, verified_at = $3, verification_note = $4,
           answer = $4, answered_by_name = $2, answered_at = $3, version = version + 1
         where evaluation_id = $1`, [f.evaluationId, staff.name, now, n]);
      await lateIfPast(q, f, now);
    }
    return (await followUpsByEvaluation(q, [f.evaluationId], now))[0]!;
  });
}

export async function rectifyBadRating(db: Db, clock: Clock, caller: Caller, evaluationId: string, measures: unknown, answer: unknown, version?: number | null): Promise<FollowUpRecord> {
  const m = requiredText('measures', measures, NOTE_MAX);
  const a = requiredText('answer', answer, NOTE_MAX);
  const now = clock.now();
  return db.tx(async (q) => {
    const { f, staff } = await lockFor(q, caller, evaluationId, now);
    expect(f, 'RECTIFYING', version);
    await q.query(
      `update evaluation.follow_ups set state = 'RECTIFIED', measures = $2, answer = $3, answered_by_name = $4, answered_at = $5, version = version + 1
       where evaluation_id = $1`, [f.evaluationId, m, a, staff.name, now]);
    await lateIfPast(q, f, now);
    return (await followUpsByEvaluation(q, [f.evaluationId], now))[0]!;
  });
}

export interface FollowUpSummary {
  agencyCode: string; badRatings: number; verifying: number; rectifying: number; rectified: number; notUpheld: number; answeredOnTime: number; overdue: number;
}

export async function followUpSummary(q: Queryable, agencyCode: string): Promise<FollowUpSummary> {
  const { rows } = await q.query<Record<string, number>>(
    `select count(*)::int as total,
       count(*) filter (where state = 'VERIFYING')::int as verifying,
       count(*) filter (where state = 'RECTIFYING')::int as rectifying,
       count(*) filter (where state = 'RECTIFIED')::int as rectified,
       count(*) filter (where state = 'NOT_UPHELD')::int as not_upheld,
       count(*) filter (where answered_at is not null and answered_at <= due_at)::int as on_time,
       (select count(*)::int from evaluation.accountability a where a.kind = 'RATING_FOLLOW_UP' and a.agency_code = $1) as overdue
     from evaluation.follow_ups where agency_code = $1`, [agencyCode]);
  const r = rows[0]!;
  return {
    agencyCode, badRatings: r.total!, verifying: r.verifying!, rectifying: r.rectifying!, rectified: r.rectified!, notUpheld: r.not_upheld!,
    answeredOnTime: r.on_time!, overdue: r.overdue!,
  };
}
