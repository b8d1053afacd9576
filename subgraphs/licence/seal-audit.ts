/**
 * The seal audit trail (R-LI-4: the seal service is supervised): every request for, installation,
 * issuance and revocation of a seal or TSA certificate is one row of `licence.seal_audit`, written
 * in the same transaction as the act (no act without its row, no row without its act). The
 * table is append-only: triggers refuse UPDATE, DELETE and TRUNCATE (migration 005). Automatic
 * acts of the service itself (platform mode issuing an agency's seal) name the actor `system`.
 * Details carry ids, serials and reasons, never keys.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../kernel/db.ts';
import { LICENCE_SCHEMA as S } from './migrations.ts';

export type SealAuditAction = 'request' | 'install' | 'issue' | 'revoke';
export type SealRole = 'seal' | 'tsa';

export interface SealActor { id: string; name: string; agency: string | null }

/** The service acting on its own (platform mode). */
export const SYSTEM_ACTOR: SealActor = { id: 'system', name: '系统 / system', agency: null };

export interface SealAuditEntry {
  action: SealAuditAction;
  /** `ca`: the platform's seal CA (LICENCE_SEAL_MODE=subordinate), or one the national root certified for another platform. */
  role: SealRole | 'ca';
  agencyCode: string | null;
  certificateId?: string | null | undefined;
  requestId?: string | null | undefined;
  details?: Record<string, unknown> | undefined;
}

export async function recordSealAct(q: Queryable, actor: SealActor, e: SealAuditEntry, at: Date): Promise<void> {
  await q.query(
    `insert into ${S}.seal_audit (id, at, action, role, agency_code, certificate_id, request_id, actor_id, actor_name, actor_agency, details)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [randomUUID(), at, e.action, e.role, e.agencyCode, e.certificateId ?? null, e.requestId ?? null, actor.id, actor.name, actor.agency, JSON.stringify(e.details ?? {})]);
}

export interface SealAuditRow {
  action: SealAuditAction; role: SealRole; agencyCode: string | null; certificateId: string | null; requestId: string | null;
  actorName: string; at: string; details: string;
}

/** An agency's seal acts (agencyCode), or the TSA's (null), in the order they happened. */
export async function sealAudit(q: Queryable, agencyCode: string | null): Promise<SealAuditRow[]> {
  const { rows } = await q.query<{
    action: SealAuditAction; role: SealRole; agency_code: string | null; certificate_id: string | null; request_id: string | null;
    actor_name: string; at: Date | string; details: unknown;
  }>(agencyCode === null
    ? `select * from ${S}.seal_audit where role = 'tsa' order by seq`
    : `select * from ${S}.seal_audit where role = 'seal' and agency_code = $1 order by seq`, agencyCode === null ? [] : [agencyCode]);
  return rows.map((r) => ({
    action: r.action, role: r.role, agencyCode: r.agency_code, certificateId: r.certificate_id, requestId: r.request_id,
    actorName: r.actor_name, at: new Date(r.at).toISOString(), details: JSON.stringify(typeof r.details === 'string' ? JSON.parse(r.details) : r.details),
  }));
}
