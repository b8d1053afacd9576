/**
 * The administrative audit log (R-ID-9): every administrative act is one entry
 * in `idp.audit_log`, written in the same transaction as the act itself (no act without its
 * entry, no entry without its act). Tamper-evident:
 *
 * - append-only: triggers refuse UPDATE, DELETE and TRUNCATE (migrations 202, 204);
 * - keyed hash chain: hash = HMAC-SHA-256, under a key the database does not hold (derived from
 *   the platform's internal secret with its own label), over the previous entry's hash and this
 *   entry's canonical content (seq, time, actor, action, target, details). Whoever can write the
 *   table cannot recompute the chain after changing, removing or reordering entries; `verify()`
 *   recomputes it and names the first entry that does not match. Entries written before the key
 *   was introduced (alg 'sha256') are accepted only as a prefix of the log;
 * - anchored head: after each writer's transaction ends, the latest committed head (seq + hash)
 *   is copied outside the table (the cache, i.e. Redis) and `verify()` returns the head for
 *   external anchoring too; verification fails when the anchored entry is missing or differs, so
 *   entries cut off the end (or the whole log replaced) are detected;
 * - one writer at a time: appends take a transaction-scoped advisory lock, so concurrent acts
 *   cannot fork the chain (each reads the head and writes seq + 1 under the lock).
 *
 * Details never carry secrets, passwords or full ID numbers (callers pass ids and masked values).
 */
import { createHash, createHmac, type KeyObject } from 'node:crypto';
import type { Cache } from '../../kernel/cache.ts';
import type { Db, Queryable } from '../../kernel/db.ts';

export const GENESIS_HASH = '0'.repeat(64);
const LOCK = 'yiwang.idp.audit_log';
const ANCHOR_KEY = 'idp:audit:head';

/** The chain key: HMAC of a distinct label under the internal secret (never stored in the database). */
export function auditKey(internalSecret: string): Buffer {
  return createHmac('sha256', internalSecret).update('yiwang/idp/audit-log/v1').digest();
}

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

/** The latest entry: what an external anchor keeps. */
export interface AuditHead { seq: number; hash: string }

export interface Verification { ok: boolean; count: number; head?: AuditHead; brokenAt?: number; reason?: string }

/** Canonical JSON: keys sorted at every level, so the hash does not depend on key order. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

type Content = Pick<AuditEntry, 'seq' | 'at' | 'actorId' | 'action' | 'target' | 'details'>;
const contentText = (e: Content) => canonical({ seq: e.seq, at: e.at, actorId: e.actorId, action: e.action, target: e.target, details: e.details });

/** The keyed link (alg 'hmac-sha256'). */
export function entryHash(key: Buffer | KeyObject, prevHash: string, e: Content): string {
  return createHmac('sha256', key).update(prevHash).update('\n').update(contentText(e)).digest('hex');
}

/** The unkeyed link of entries written before migration 204 (alg 'sha256'). */
function legacyHash(prevHash: string, e: Content): string {
  return createHash('sha256').update(prevHash).update('\n').update(contentText(e)).digest('hex');
}

interface Row {
  seq: string | number; at: Date | string; actor_id: string; action: string; target: string | null;
  details: Record<string, unknown> | string; prev_hash: string; hash: string; alg?: string;
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
  /** Recompute the chain and compare its head with the anchored one; on success returns the head. */
  verify(): Promise<Verification>;
  /** The head anchored outside the table (undefined without a cache or before the first entry). */
  anchored(): Promise<AuditHead | undefined>;
}

export interface AuditLogOptions {
  /** The chain key (auditKey(secrets.internalSecret)). */
  key: Buffer | KeyObject;
  /** Where the head is anchored outside the database (Redis in production). */
  cache?: Cache | undefined;
  /** Told when anchoring failed (the act itself stands; the next append or verify anchors again). */
  onAnchorError?: ((e: unknown) => void) | undefined;
}

const COLUMNS = 'seq, at, actor_id, action, target, details, prev_hash, hash';

export function createAuditLog(db: Db, o: AuditLogOptions): AuditLog {
  const { key, cache } = o;
  const inFlight = new Set<Promise<void>>();

  async function anchoredHead(): Promise<AuditHead | undefined> {
    const raw = cache ? await cache.get(ANCHOR_KEY) : null;
    return raw ? JSON.parse(raw) as AuditHead : undefined;
  }

  /** Raise the anchor to the committed head (never lower it). Caller holds the advisory lock. */
  async function raiseAnchor(head: AuditHead): Promise<void> {
    if (!cache) return;
    const current = await anchoredHead();
    if (!current || head.seq > current.seq) await cache.set(ANCHOR_KEY, JSON.stringify(head));
  }

  /**
   * After the appending transaction ends (its advisory lock is released, commit or rollback),
   * read the committed head under the lock and anchor it. Runs in the background; verify() waits.
   */
  function anchorAfterCommit(): void {
    if (!cache) return;
    const p = db.tx(async (q) => {
      await q.query('select pg_advisory_xact_lock(hashtext($1))', [LOCK]);
      const { rows } = await q.query<{ seq: string | number; hash: string }>('select seq, hash from idp.audit_log order by seq desc limit 1');
      if (rows[0]) await raiseAnchor({ seq: Number(rows[0].seq), hash: rows[0].hash });
    }).catch((e: unknown) => o.onAnchorError?.(e)).finally(() => { inFlight.delete(p); });
    inFlight.add(p);
  }

  return {
    async append(q, e, at) {
      await q.query('select pg_advisory_xact_lock(hashtext($1))', [LOCK]);
      const { rows } = await q.query<{ seq: string | number; hash: string }>('select seq, hash from idp.audit_log order by seq desc limit 1');
      const head = rows[0];
      // Milliseconds only: what the database keeps, so verification recomputes the same text.
      const entry = {
        seq: head ? Number(head.seq) + 1 : 1, at: new Date(Math.floor(at.getTime())).toISOString(),
        actorId: e.actorId, action: e.action, target: e.target ?? null, details: e.details ?? {},
      };
      const prevHash = head?.hash ?? GENESIS_HASH;
      const hash = entryHash(key, prevHash, entry);
      await q.query(
        `insert into idp.audit_log (${COLUMNS}, alg) values ($1, $2, $3, $4, $5, $6, $7, $8, 'hmac-sha256')`,
        [entry.seq, entry.at, entry.actorId, entry.action, entry.target, canonical(entry.details), prevHash, hash],
      );
      anchorAfterCommit();
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
      await Promise.all([...inFlight]);
      const anchor = await anchoredHead();
      let prev = GENESIS_HASH;
      let expectedSeq = 1;
      let count = 0;
      let keyed = false;
      let anchorSeen = false;
      // In pages, so a long log is not loaded at once.
      for (let after = 0; ;) {
        const { rows } = await db.query<Row>(`select ${COLUMNS}, alg from idp.audit_log where seq > $1 order by seq limit 500`, [after]);
        if (!rows.length) break;
        for (const r of rows) {
          const e = toEntry(r);
          if (e.seq !== expectedSeq) return { ok: false, count, brokenAt: expectedSeq, reason: 'entry missing' };
          if (e.prevHash !== prev) return { ok: false, count, brokenAt: e.seq, reason: 'previous hash does not match' };
          // Unkeyed links only before the first keyed one (no downgrade of later entries).
          const legacy: boolean = r.alg === 'sha256' && !keyed;
          keyed ||= !legacy;
          if ((legacy ? legacyHash(prev, e) : entryHash(key, prev, e)) !== e.hash) return { ok: false, count, brokenAt: e.seq, reason: 'content does not match its hash' };
          if (anchor && e.seq === anchor.seq) {
            if (e.hash !== anchor.hash) return { ok: false, count, brokenAt: e.seq, reason: 'entry differs from the anchored head' };
            anchorSeen = true;
          }
          prev = e.hash;
          expectedSeq += 1;
          count += 1;
          after = e.seq;
        }
      }
      if (anchor && !anchorSeen) return { ok: false, count, brokenAt: count + 1, reason: 'entries after the last one are missing (anchored head not found)' };
      if (count === 0) return { ok: true, count };
      const head = { seq: count, hash: prev };
      // Under the writers' lock, so a concurrent append's anchor is never lowered.
      await db.tx(async (q) => {
        await q.query('select pg_advisory_xact_lock(hashtext($1))', [LOCK]);
        await raiseAnchor(head);
      });
      return { ok: true, count, head };
    },

    anchored: anchoredHead,
  };
}
