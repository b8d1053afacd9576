/**
 * The administrative audit log (R-ID-9, issue 3 bullet 7): every administrative act is one entry
 * in `idp.audit_log`, written in the same transaction as the act itself (no act without its
 * entry, no entry without its act). Tamper-evident:
 *
 * - append-only: a trigger refuses UPDATE and DELETE (migration 202_admin_audit);
 * - hash-chained: hash = SHA-256 over the previous entry's hash and this entry's canonical
 *   content (seq, time, actor, action, target, details), so changing, removing or reordering
 *   any entry breaks every later hash; `verify()` recomputes the chain and names the first
 *   entry that does not match;
 * - one writer at a time: appends take a transaction-scoped advisory lock, so concurrent acts
 *   cannot fork the chain (each reads the head and writes seq + 1 under the lock).
 *
 * Details never carry secrets, passwords or full ID numbers (callers pass ids and masked values).
 */
import { createHash } from 'node:crypto';
import type { Db, Queryable } from '../../kernel/db.ts';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntryInput {
  actorId: string;
  action: string;
  target?: string | undefined;
  details?: Record<string, unknown> | undefined;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actorId: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface AuditQuery {
  actorId?: string | undefined;
  action?: string | undefined;
  target?: string | undefined;
  /** ISO times, inclusive / exclusive. */
  from?: string | undefined;
  to?: string | undefined;
  afterSeq?: number | undefined;
  limit?: number | undefined;
}

export interface Verification { ok: boolean; count: number; brokenAt?: number; reason?: string }

/** Canonical JSON: keys sorted at every level, so the hash does not depend on key order. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

export function entryHash(prevHash: string, e: Pick<AuditEntry, 'seq' | 'at' | 'actorId' | 'action' | 'target' | 'details'>): string {
  return createHash('sha256').update(prevHash).update('\n')
    .update(canonical({ seq: e.seq, at: e.at, actorId: e.actorId, action: e.action, target: e.target, details: e.details }))
    .digest('hex');
}

interface Row {
  seq: string | number; at: Date | string; actor_id: string; action: string; target: string | null;
  details: Record<string, unknown> | string; prev_hash: string; hash: string;
}

function toEntry(r: Row): AuditEntry {
  return {
    seq: Number(r.seq), at: new Date(r.at).toISOString(), actorId: r.actor_id, action: r.action, target: r.target,
    details: typeof r.details === 'string' ? JSON.parse(r.details) as Record<string, unknown> : r.details,
    prevHash: r.prev_hash, hash: r.hash,
  };
}

export interface AuditLog {
  /** Append inside the caller's transaction `q`. */
  append(q: Queryable, e: AuditEntryInput, at: Date): Promise<AuditEntry>;
  query(f?: AuditQuery): Promise<AuditEntry[]>;
  verify(): Promise<Verification>;
}

const COLUMNS = 'seq, at, actor_id, action, target, details, prev_hash, hash';

export function createAuditLog(db: Db): AuditLog {
  return {
    async append(q, e, at) {
      await q.query('select pg_advisory_xact_lock(hashtext($1))', ['yiwang.idp.audit_log']);
      const { rows } = await q.query<{ seq: string | number; hash: string }>('select seq, hash from idp.audit_log order by seq desc limit 1');
      const head = rows[0];
      // Milliseconds only: what the database keeps, so verification recomputes the same text.
      const entry = {
        seq: head ? Number(head.seq) + 1 : 1, at: new Date(Math.floor(at.getTime())).toISOString(),
        actorId: e.actorId, action: e.action, target: e.target ?? null, details: e.details ?? {},
      };
      const prevHash = head?.hash ?? GENESIS_HASH;
      const hash = entryHash(prevHash, entry);
      await q.query(
        `insert into idp.audit_log (${COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [entry.seq, entry.at, entry.actorId, entry.action, entry.target, canonical(entry.details), prevHash, hash],
      );
      return { ...entry, prevHash, hash };
    },

    async query(f = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, v: unknown) => { params.push(v); where.push(sql.replace('?', `$${params.length}`)); };
      if (f.actorId) add('actor_id = ?', f.actorId);
      if (f.action) add('action = ?', f.action);
      if (f.target) add('target = ?', f.target);
      if (f.from) add('at >= ?', f.from);
      if (f.to) add('at < ?', f.to);
      if (f.afterSeq !== undefined) add('seq > ?', f.afterSeq);
      params.push(Math.min(Math.max(f.limit ?? 100, 1), 1000));
      const { rows } = await db.query<Row>(
        `select ${COLUMNS} from idp.audit_log ${where.length ? `where ${where.join(' and ')}` : ''} order by seq limit $${params.length}`, params,
      );
      return rows.map(toEntry);
    },

    async verify() {
      let prev = GENESIS_HASH;
      let expectedSeq = 1;
      let count = 0;
      // In pages, so a long log is not loaded at once.
      for (let after = 0; ;) {
        const { rows } = await db.query<Row>(`select ${COLUMNS} from idp.audit_log where seq > $1 order by seq limit 500`, [after]);
        if (!rows.length) break;
        for (const r of rows) {
          const e = toEntry(r);
          if (e.seq !== expectedSeq) return { ok: false, count, brokenAt: expectedSeq, reason: 'entry missing' };
          if (e.prevHash !== prev) return { ok: false, count, brokenAt: e.seq, reason: 'previous hash does not match' };
          if (entryHash(prev, e) !== e.hash) return { ok: false, count, brokenAt: e.seq, reason: 'content does not match its hash' };
          prev = e.hash;
          expectedSeq += 1;
          count += 1;
          after = e.seq;
        }
      }
      return { ok: true, count };
    },
  };
}
