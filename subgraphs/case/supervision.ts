/**
 * Supervision queries (R-CA-8): overdue and warned cases of an agency, accountability records,
 * and the on-time rate (finished cases that never lapsed a deadline, over all finished cases).
 */
import type { Queryable } from '../../kernel/db.ts';
import { CASE_SCHEMA as S } from './migrations.ts';

export interface AlertRecord { caseId: string; caseNumber: string; kind: 'warning' | 'overdue'; state: string; deadlineAt: string; at: string }

export interface SupervisionReport {
  agencyCode: string;
  /** Unfinished cases whose deadline has passed (clock running). */
  overdue: AlertRecord[];
  /** Unfinished cases warned and not (yet) overdue. */
  warned: AlertRecord[];
  finished: number;
  finishedOnTime: number;
  /** finishedOnTime / finished; null before any case finished. */
  onTimeRate: number | null;
}

const LIMIT = 500;

export async function supervisionReport(q: Queryable, agencyCode: string): Promise<SupervisionReport> {
  const alerts = async (kind: 'warning' | 'overdue', extra: string) => (await q.query<{ case_id: string; case_number: string; state: string; deadline_at: Date; at: Date }>(
    `select a.case_id, c.case_number, a.state, a.deadline_at, a.at from ${S}.case_alerts a join ${S}.cases c on c.id = a.case_id
     where a.agency_code = $1 and a.kind = $2 and c.finished_at is null and a.deadline_at = c.deadline_at ${extra}
     order by a.deadline_at, c.case_number limit ${LIMIT}`, [agencyCode, kind])).rows
    .map((r) => ({ caseId: r.case_id, caseNumber: r.case_number, kind, state: r.state, deadlineAt: new Date(r.deadline_at).toISOString(), at: new Date(r.at).toISOString() }));
  const overdue = await alerts('overdue', '');
  const warned = await alerts('warning', `and not exists (select 1 from ${S}.case_alerts o where o.case_id = a.case_id and o.kind = 'overdue' and o.deadline_at = a.deadline_at)`);
  const { rows } = await q.query<{ finished: number; on_time: number }>(
    `select count(*)::int as finished,
            count(*) filter (where not exists (select 1 from ${S}.case_alerts o where o.case_id = c.id and o.kind = 'overdue'))::int as on_time
     from ${S}.cases c where c.agency_code = $1 and c.finished_at is not null`, [agencyCode]);
  const finished = rows[0]?.finished ?? 0, onTime = rows[0]?.on_time ?? 0;
  return { agencyCode, overdue, warned, finished, finishedOnTime: onTime, onTimeRate: finished ? onTime / finished : null };
}

/** Every accountability record of one case (overdue lapses), oldest first. */
export async function accountabilityRecords(q: Queryable, caseId: string): Promise<AlertRecord[]> {
  const { rows } = await q.query<{ case_id: string; case_number: string; state: string; deadline_at: Date; at: Date }>(
    `select a.case_id, c.case_number, a.state, a.deadline_at, a.at from ${S}.case_alerts a join ${S}.cases c on c.id = a.case_id
     where a.case_id = $1 and a.kind = 'overdue' order by a.id`, [caseId]);
  return rows.map((r) => ({ caseId: r.case_id, caseNumber: r.case_number, kind: 'overdue', state: r.state, deadlineAt: new Date(r.deadline_at).toISOString(), at: new Date(r.at).toISOString() }));
}
