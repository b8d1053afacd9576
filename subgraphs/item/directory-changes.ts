/**
 * Directory entries (事项目录, R-IT-1) created and changed through the graph, with the same
 * validation and two-person approval as items (R-IT-6):
 *
 * - Staff of an agency whose level and region are the entry's (a provincial agency keeps the
 *   provincial directory of its province, a municipal agency its city's) request a change: the
 *   whole entry as it should be. The request is validated at once by writing it inside a
 *   savepoint that is rolled back (shape, parent, consistency of name, type and legal basis
 *   across levels and implementations: exactly what the write will check), so a request that
 *   could never be approved is refused with its error.
 * - A reviewer or decider of such an agency, not the requester, approves it: the entry is written
 *   (checked again) in the same transaction. A request made when the entry was another than
 *   the one now in force is superseded (CONFLICT), so an approval never undoes another.
 * - `item.directory_changes` is the audit trail: every request and decision with who, which
 *   agency and when; rows are never deleted and a decided row never changes (triggers).
 * Requests of one entry are serialised by an advisory lock; a request repeated with its request
 * key returns the first one.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Caller } from '../../kernel/internal-auth.ts';
import {
  REQUEST_KEY, canonical, parseDirectoryInput, staff, upsertDirectoryEntry, type DirectoryInput, type VersionStatus,
} from './catalogue.ts';

export interface DirectoryChange {
  id: string; basicCode: string; regionCode: string; level: number; data: DirectoryInput; isNew: boolean; status: VersionStatus;
  requestedByName: string; requestedByAgency: string; requestedAt: Date;
  decidedByName: string | null; decidedByAgency: string | null; decidedAt: Date | null; reason: string | null;
  requestedBy: string; baseUpdatedAt: Date | null;
}

const COLUMNS = `id, basic_code, region_code, level, data, base_updated_at, status, requested_by, requested_by_name, requested_by_agency,
  requested_at, decided_by_name, decided_by_agency, decided_at, reason`;

function toChange(r: Record<string, unknown>): DirectoryChange {
  return {
    id: r.id as string, basicCode: r.basic_code as string, regionCode: r.region_code as string, level: Number(r.level),
    data: (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as DirectoryInput,
    baseUpdatedAt: r.base_updated_at ? new Date(r.base_updated_at as string) : null, isNew: !r.base_updated_at,
    status: r.status as VersionStatus, requestedBy: r.requested_by as string, requestedByName: r.requested_by_name as string,
    requestedByAgency: r.requested_by_agency as string, requestedAt: new Date(r.requested_at as string),
    decidedByName: (r.decided_by_name as string | null) ?? null, decidedByAgency: (r.decided_by_agency as string | null) ?? null,
    decidedAt: r.decided_at ? new Date(r.decided_at as string) : null, reason: (r.reason as string | null) ?? null,
  };
}

async function lockEntry(q: Queryable, basicCode: string, regionCode: string): Promise<void> {
  await q.query(`select pg_advisory_xact_lock(hashtextextended('directory:' || $1 || ':' || $2, 0))`, [basicCode, regionCode]);
}

/** The directory scope of the caller's agency: its level (1-3) and region; FORBIDDEN unless it is the entry's. */
async function requireScope(q: Queryable, agency: string, level: number, regionCode: string): Promise<void> {
  const { rows } = await q.query<{ level: number; region_code: string }>('select level, region_code from item.agencies where code = $1', [agency]);
  const a = rows[0];
  if (!a || Number(a.level) !== level || a.region_code !== regionCode) {
    throw new AppError('FORBIDDEN', '只能维护本级本地区的事项目录 / only the directory of your agency\'s level and region',
      { regionCode: `your agency keeps level ${a?.level ?? '?'} of ${a?.region_code ?? '?'}` });
  }
}

async function currentUpdatedAt(q: Queryable, basicCode: string, regionCode: string): Promise<Date | null> {
  const { rows } = await q.query<{ updated_at: Date }>('select updated_at from item.directory_entries where basic_code = $1 and region_code = $2', [basicCode, regionCode]);
  return rows[0] ? new Date(rows[0].updated_at) : null;
}

/** Ask for a new or changed directory entry: a pending change, validated now. */
export async function requestDirectoryChange(q: Queryable, caller: Caller, input: DirectoryInput, requestKey: string, now: Date): Promise<DirectoryChange> {
  const s = staff(caller);
  if (!REQUEST_KEY.test(requestKey)) throw new AppError('BAD_INPUT', '请求键无效 / invalid request key', { requestKey: '8-100 letters, digits or _.:-' });
  const d = parseDirectoryInput(input);
  await requireScope(q, s.agency, d.level, d.regionCode);
  await lockEntry(q, d.basicCode, d.regionCode);
  const again = await q.query(`select ${COLUMNS} from item.directory_changes where requested_by = $1 and request_key = $2`, [s.sub, requestKey]);
  if (again.rows[0]) {
    const c = toChange(again.rows[0]);
    if (canonical(c.data) !== canonical(d)) throw new AppError('CONFLICT', '该请求键已用于另一变更 / this request key was used for another change', { requestKey: 'already used' });
    return c;
  }
  // The write's own checks, undone: a request that could not be written is refused now.
  await q.query('savepoint directory_check');
  let outcome: Awaited<ReturnType<typeof upsertDirectoryEntry>>;
  try {
    outcome = await upsertDirectoryEntry(q, d, now);
  } finally {
    await q.query('rollback to savepoint directory_check');
  }
  if (outcome === 'unchanged') throw new AppError('BAD_INPUT', '与现行目录相同，无需变更 / the entry is already so', { basicCode: 'no change' });
  const { rows } = await q.query(
    `insert into item.directory_changes (id, basic_code, region_code, level, data, base_updated_at, status, requested_by, requested_by_name,
       requested_by_agency, request_key, requested_at)
     values ($1, $2, $3, $4, $5::jsonb, $6, 'pending', $7, $8, $9, $10, $11) returning ${COLUMNS}`,
    [randomUUID(), d.basicCode, d.regionCode, d.level, JSON.stringify(d), await currentUpdatedAt(q, d.basicCode, d.regionCode),
      s.sub, s.name, s.agency, requestKey, now]);
  return toChange(rows[0]!);
}

/**
 * Approve (the entry is written at once) or reject a pending change: a reviewer or decider of an
 * agency at the entry's level and region, not the requester.
 */
export async function decideDirectoryChange(q: Queryable, caller: Caller, id: string, decision: { approve: true } | { approve: false; reason: string }, now: Date): Promise<DirectoryChange> {
  const s = staff(caller);
  if (!s.roles.includes('reviewer') && !s.roles.includes('decider')) throw new AppError('FORBIDDEN', '需要审核或决定岗位 / the reviewer or decider role is required');
  if (!decision.approve && !decision.reason.trim()) throw new AppError('BAD_INPUT', '退回须说明理由 / a rejection needs a reason', { reason: 'required' });
  const first = await q.query<{ basic_code: string; region_code: string }>('select basic_code, region_code from item.directory_changes where id = $1', [id]);
  if (!first.rows[0]) throw new AppError('NOT_FOUND', '变更请求不存在 / no such change request');
  await lockEntry(q, first.rows[0].basic_code, first.rows[0].region_code);
  const c = toChange((await q.query(`select ${COLUMNS} from item.directory_changes where id = $1`, [id])).rows[0]!);
  await requireScope(q, s.agency, c.level, c.regionCode);
  if (c.requestedBy === s.sub) throw new AppError('CHANGE_SELF_APPROVAL', '不能审核自己提交的变更，须由另一人审核 / a change must be approved by someone other than its requester');
  if (c.status !== 'pending') throw new AppError('CONFLICT', `变更已处理（${c.status}）/ the change was already decided (${c.status})`, { status: c.status });
  const set = async (status: VersionStatus, reason: string | null) => toChange((await q.query(
    `update item.directory_changes set status = $2, decided_by = $3, decided_by_name = $4, decided_by_agency = $5, decided_at = $6, reason = $7
     where id = $1 returning ${COLUMNS}`, [id, status, s.sub, s.name, s.agency, now, reason])).rows[0]!);
  if (!decision.approve) return set('rejected', decision.reason.trim());
  const inForce = await currentUpdatedAt(q, c.basicCode, c.regionCode);
  if ((inForce?.getTime() ?? null) !== (c.baseUpdatedAt?.getTime() ?? null)) {
    return set('superseded', `the entry changed at ${inForce?.toISOString() ?? 'an unknown time'} after this request`);
  }
  await upsertDirectoryEntry(q, c.data, now);
  return set('approved', null);
}

/** Changes of the directory the caller's agency keeps (its level and region), oldest first. */
export async function directoryChangesFor(q: Queryable, caller: Caller, status: VersionStatus): Promise<DirectoryChange[]> {
  const s = staff(caller);
  const { rows } = await q.query(
    `select ${COLUMNS.split(',').map((c) => `c.${c.trim()}`).join(', ')} from item.directory_changes c join item.agencies a on a.code = $1
     where c.level = a.level and c.region_code = a.region_code and c.status = $2 order by c.requested_at, c.id limit 200`, [s.agency, status]);
  return rows.map(toChange);
}
