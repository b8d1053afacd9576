/**
 * Catalogue management (R-IT-1, R-IT-3, R-IT-6):
 *
 * - Directory entries (事项目录) at national (1), provincial (2) and municipal (3) level, each a
 *   main item, a sub-item or a handling item. The same basic code names the same item at every
 *   level: name, type and legal basis must agree across levels and with every implementation
 *   (CATALOGUE_INCONSISTENT otherwise).
 * - Versions: a change to an implementation is a request (a new version, pending) by staff of
 *   the implementing agency; a reviewer or decider of that agency other than the requester
 *   approves it, and the approved version is written through upsertItem in the same
 *   transaction, so the search index and the `item.upserted` event (every channel) change at
 *   once. Requests and approvals of one item are serialised by an advisory lock: concurrent
 *   approvals of one version approve it once (the other gets CONFLICT), a request based on an
 *   older version than the one in force cannot be approved (CONFLICT, marked superseded), and a
 *   request repeated with the same request key returns the first one.
 */
import { z } from 'zod';
import type { Queryable } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Caller } from '../../kernel/internal-auth.ts';
import { isItemTypeCode } from './types.ts';
import { itemInput, validItem, type ItemInput } from './model.ts';
import { upsertItem } from './upsert.ts';
import { checkAgainstDirectory, inconsistent } from './directory-check.ts';
import { notifyFollowers } from './notifications.ts';

export { checkAgainstDirectory };

export const DIRECTORY_KINDS = ['main', 'sub', 'handling'] as const;

const directoryInput = z.object({
  basicCode: z.string().regex(/^[0-9A-Za-z]{1,64}$/, 'letters and digits, at most 64'),
  regionCode: z.string().regex(/^\d{6}$/, '6 digits'),
  level: z.number().int().min(1).max(3),
  name: z.string().trim().min(1).max(200),
  typeCode: z.string().refine(isItemTypeCode, 'a GB/T 39046 item type code (01-10, 20)'),
  legalBasis: z.string().trim().min(1).max(4000),
  kind: z.enum(DIRECTORY_KINDS),
  parentCode: z.string().regex(/^[0-9A-Za-z]{1,64}$/).nullish(),
}).refine((d) => (d.kind === 'main') === !d.parentCode, { path: ['parentCode'], message: 'sub-items and handling items have a parent; main items none' });

export type DirectoryInput = z.input<typeof directoryInput>;

/** A directory entry input checked for shape (BAD_INPUT naming the fields otherwise). */
export function parseDirectoryInput(input: DirectoryInput): z.output<typeof directoryInput> {
  const r = directoryInput.safeParse(input);
  if (!r.success) throw invalid('directory entry', r.error.issues);
  return r.data;
}

export interface DirectoryEntry {
  basicCode: string; regionCode: string; level: number; name: string; typeCode: string; legalBasis: string;
  kind: typeof DIRECTORY_KINDS[number]; parentCode: string | null;
}

export function invalid(what: string, issues: z.core.$ZodIssue[]): AppError {
  const details: Record<string, string> = {};
  for (const i of issues) details[i.path.join('.') || what] = i.message;
  return new AppError('BAD_INPUT', `${what}数据不合法 / invalid ${what}`, details);
}


export async function upsertDirectoryEntry(q: Queryable, input: DirectoryInput, now: Date): Promise<'inserted' | 'updated' | 'unchanged'> {
  const d = parseDirectoryInput(input);
  const others = await q.query<{ region_code: string; name: string; type_code: string; legal_basis: string }>(
    'select region_code, name, type_code, legal_basis from item.directory_entries where basic_code = $1 and region_code <> $2', [d.basicCode, d.regionCode]);
  for (const o of others.rows) {
    const diff: Record<string, string> = {};
    if (o.name !== d.name) diff.name = `differs from ${o.region_code}: ${o.name}`;
    if (o.type_code !== d.typeCode) diff.typeCode = `differs from ${o.region_code}: ${o.type_code}`;
    if (o.legal_basis !== d.legalBasis) diff.legalBasis = `differs from ${o.region_code}`;
    if (Object.keys(diff).length > 0) throw inconsistent(d.basicCode, diff);
  }
  const impl = await q.query<{ name: string; type_code: string }>(
    'select name, type_code from item.items where basic_code = $1 and (name <> $2 or type_code <> $3) limit 1', [d.basicCode, d.name, d.typeCode]);
  if (impl.rows[0]) throw inconsistent(d.basicCode, { name: `an implementation is named ${impl.rows[0].name} (type ${impl.rows[0].type_code})` });
  if (d.parentCode) {
    const parent = await q.query<{ kind: string }>('select kind from item.directory_entries where basic_code = $1 limit 1', [d.parentCode]);
    const p = parent.rows[0];
    if (!p) throw new AppError('BAD_INPUT', '上级事项不存在 / unknown parent item', { parentCode: 'no directory entry with this basic code' });
    if (p.kind === 'handling' || (d.kind === 'sub' && p.kind !== 'main')) {
      throw new AppError('BAD_INPUT', '上级事项层次不对 / wrong parent kind', { parentCode: `a ${d.kind} item cannot sit under a ${p.kind} item` });
    }
  }
  const { rows } = await q.query<{ inserted: boolean }>(
    `insert into item.directory_entries (basic_code, region_code, level, name, type_code, legal_basis, kind, parent_code, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     on conflict (basic_code, region_code) do update set level = excluded.level, name = excluded.name, type_code = excluded.type_code,
       legal_basis = excluded.legal_basis, kind = excluded.kind, parent_code = excluded.parent_code, updated_at = excluded.updated_at
     where (directory_entries.level, directory_entries.name, directory_entries.type_code, directory_entries.legal_basis,
            directory_entries.kind, directory_entries.parent_code)
       is distinct from (excluded.level, excluded.name, excluded.type_code, excluded.legal_basis, excluded.kind, excluded.parent_code)
     returning (xmax = 0) as inserted`,
    [d.basicCode, d.regionCode, d.level, d.name, d.typeCode, d.legalBasis, d.kind, d.parentCode ?? null, now]);
  return rows[0] ? (rows[0].inserted ? 'inserted' : 'updated') : 'unchanged';
}

/** An implementation must carry its directory entry's name and type (when the directory has it). */

export function rowToDirectory(r: Record<string, unknown>): DirectoryEntry {
  return {
    basicCode: r.basic_code as string, regionCode: r.region_code as string, level: Number(r.level), name: r.name as string,
    typeCode: r.type_code as string, legalBasis: r.legal_basis as string, kind: r.kind as DirectoryEntry['kind'], parentCode: (r.parent_code as string | null) ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// Versions

export type VersionStatus = 'pending' | 'approved' | 'rejected' | 'superseded';

export interface ItemVersion {
  itemId: string; version: number; baseVersion: number; data: ItemInput; status: VersionStatus; source: 'request' | 'import' | 'seed';
  requestedBy: string; requestedByName: string; requestedAt: Date; decidedBy: string | null; decidedByName: string | null;
  decidedAt: Date | null; reason: string | null;
}

function toVersion(r: Record<string, unknown>): ItemVersion {
  return {
    itemId: r.item_id as string, version: Number(r.version), baseVersion: Number(r.base_version),
    data: (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as ItemInput,
    status: r.status as VersionStatus, source: r.source as ItemVersion['source'],
    requestedBy: r.requested_by as string, requestedByName: r.requested_by_name as string, requestedAt: new Date(r.requested_at as string),
    decidedBy: (r.decided_by as string | null) ?? null, decidedByName: (r.decided_by_name as string | null) ?? null,
    decidedAt: r.decided_at ? new Date(r.decided_at as string) : null, reason: (r.reason as string | null) ?? null,
  };
}

const VERSION_COLUMNS = `item_id, version, base_version, data, status, source, requested_by, requested_by_name, requested_at,
  decided_by, decided_by_name, decided_at, reason`;

/** Serialise writers of one item inside their transactions (works on PostgreSQL and PGlite). */
export async function lockItem(q: Queryable, itemId: string): Promise<void> {
  await q.query(`select pg_advisory_xact_lock(hashtextextended('item:' || $1, 0))`, [itemId]);
}

export function staff(caller: Caller): Extract<Caller, { kind: 'staff' }> {
  if (caller.kind !== 'staff') throw new AppError('FORBIDDEN', '仅限工作人员 / staff only');
  return caller;
}

/** JSON with keys sorted at every depth (jsonb does not keep key order). */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : x));
}

export const REQUEST_KEY = /^[A-Za-z0-9_.:-]{8,100}$/;

/** Ask for a change (or a new item): a pending version. Idempotent per (requester, request key). */
export async function requestChange(q: Queryable, caller: Caller, input: ItemInput, requestKey: string, now: Date): Promise<ItemVersion> {
  const s = staff(caller);
  if (!REQUEST_KEY.test(requestKey)) throw new AppError('BAD_INPUT', '请求键无效 / invalid request key', { requestKey: '8-100 letters, digits or _.:-' });
  const parsed = itemInput.safeParse(input);
  if (!parsed.success) throw invalid('item', parsed.error.issues);
  const i = validItem(input);
  if (i.agencyCode !== s.agency) throw new AppError('FORBIDDEN', '只能变更本机构实施的事项 / only items your agency implements', { agencyCode: 'not your agency' });
  await lockItem(q, i.id);
  const again = await q.query(`select ${VERSION_COLUMNS} from item.item_versions where requested_by = $1 and request_key = $2`, [s.sub, requestKey]);
  if (again.rows[0]) {
    const v = toVersion(again.rows[0]);
    if (v.itemId !== i.id || canonical(v.data) !== canonical(input)) {
      throw new AppError('CONFLICT', '该请求键已用于另一变更 / this request key was used for another change', { requestKey: 'already used' });
    }
    return v;
  }
  const current = await q.query<{ agency_code: string; version: number }>('select agency_code, version from item.items where id = $1', [i.id]);
  const cur = current.rows[0];
  if (cur && cur.agency_code !== s.agency) throw new AppError('FORBIDDEN', '只能变更本机构实施的事项 / only items your agency implements', { id: 'implemented by another agency' });
  await checkAgainstDirectory(q, i);
  const agency = await q.query('select 1 from item.agencies where code = $1', [i.agencyCode]);
  if (agency.rows.length === 0) throw new AppError('BAD_INPUT', '实施机构不存在 / unknown agency', { agencyCode: 'no such agency' });
  const { rows } = await q.query(
    `insert into item.item_versions (item_id, version, base_version, data, status, source, requested_by, requested_by_name, request_key, requested_at)
     values ($1, (select coalesce(max(version), 0) + 1 from item.item_versions where item_id = $1), $2, $3::jsonb, 'pending', 'request', $4, $5, $6, $7)
     returning ${VERSION_COLUMNS}`,
    [i.id, cur?.version ?? 0, JSON.stringify(input), s.sub, s.name, requestKey, now]);
  return toVersion(rows[0]!);
}

export type Decision = { approve: true } | { approve: false; reason: string };

/**
 * Approve or reject a pending version. Approval needs the reviewer or decider role in the
 * item's agency and a person other than the requester; it writes the item (search index and
 * event included) and makes the version current.
 */
export async function decideChange(q: Queryable, caller: Caller, itemId: string, version: number, decision: Decision, now: Date): Promise<ItemVersion> {
  const s = staff(caller);
  if (!s.roles.includes('reviewer') && !s.roles.includes('decider')) {
    throw new AppError('FORBIDDEN', '需要审核或决定岗位 / the reviewer or decider role is required');
  }
  if (!decision.approve && !decision.reason.trim()) throw new AppError('BAD_INPUT', '退回须说明理由 / a rejection needs a reason', { reason: 'required' });
  await lockItem(q, itemId);
  const { rows } = await q.query(`select ${VERSION_COLUMNS} from item.item_versions where item_id = $1 and version = $2`, [itemId, version]);
  if (!rows[0]) throw new AppError('NOT_FOUND', '变更请求不存在 / no such change request');
  const v = toVersion(rows[0]);
  const data = v.data as { agencyCode?: string };
  if (data.agencyCode !== s.agency) throw new AppError('FORBIDDEN', '只能审核本机构的变更 / only your agency\'s changes');
  if (v.requestedBy === s.sub) throw new AppError('CHANGE_SELF_APPROVAL', '不能审核自己提交的变更，须由另一人审核 / a change must be approved by someone other than its requester');
  if (v.status !== 'pending') throw new AppError('CONFLICT', `变更已处理（${v.status}）/ the change was already decided (${v.status})`, { status: v.status });
  const set = async (status: VersionStatus, reason: string | null) => toVersion((await q.query(
    `update item.item_versions set status = $3, decided_by = $4, decided_by_name = $5, decided_at = $6, reason = $7
     where item_id = $1 and version = $2 returning ${VERSION_COLUMNS}`, [itemId, version, status, s.sub, s.name, now, reason])).rows[0]!);
  if (!decision.approve) return set('rejected', decision.reason.trim());
  const current = await q.query<{ version: number }>('select version from item.items where id = $1', [itemId]);
  const inForce = current.rows[0]?.version ?? 0;
  if (inForce !== v.baseVersion) {
    // Another version was approved since this one was asked for: approving it would undo that
    // one. Marked superseded (committed); the caller reports CONFLICT (supersededError).
    return set('superseded', `based on version ${v.baseVersion}, version ${inForce} is in force`);
  }
  await checkAgainstDirectory(q, validItem(v.data));
  await upsertItem(q, v.data, now);
  await q.query('update item.items set version = $2 where id = $1', [itemId, version]);
  await notifyFollowers(q, itemId, version, v.data.name, now);
  return set('approved', null);
}

/** What an approval that found its version superseded reports, after the transaction that marked it commits. */
export function supersededError(v: ItemVersion): AppError {
  return new AppError('CONFLICT', '事项已有更新的版本，请基于现行版本重新提交 / a newer version is in force: request the change again on it',
    { baseVersion: String(v.baseVersion), reason: v.reason ?? '' });
}

export async function versionsOf(q: Queryable, itemId: string): Promise<ItemVersion[]> {
  const { rows } = await q.query(`select ${VERSION_COLUMNS} from item.item_versions where item_id = $1 order by version desc`, [itemId]);
  return rows.map(toVersion);
}

export async function requestsOfAgency(q: Queryable, agency: string, status: VersionStatus): Promise<ItemVersion[]> {
  const { rows } = await q.query(
    `select ${VERSION_COLUMNS} from item.item_versions where status = $2 and data->>'agencyCode' = $1 order by requested_at, item_id, version limit 200`,
    [agency, status]);
  return rows.map(toVersion);
}

/** Record an approved version written by import (its file is the request, the operator the approver). */
export async function recordImportedVersion(q: Queryable, input: ItemInput, operator: string, file: string, now: Date): Promise<number> {
  const i = validItem(input);
  await lockItem(q, i.id);
  const { rows } = await q.query<{ version: number }>(
    `insert into item.item_versions (item_id, version, base_version, data, status, source, requested_by, requested_by_name, requested_at,
       decided_by, decided_by_name, decided_at)
     values ($1, (select coalesce(max(version), 0) + 1 from item.item_versions where item_id = $1),
       coalesce((select version from item.items where id = $1), 0), $2::jsonb, 'approved', 'import', $3, $4, $5, $3, $4, $5)
     returning version`, [i.id, JSON.stringify(input), `import:${operator}`, file, now]);
  const version = rows[0]!.version;
  await q.query('update item.items set version = $2 where id = $1', [i.id, version]);
  await notifyFollowers(q, i.id, version, i.name, now);
  return version;
}
