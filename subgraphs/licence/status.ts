/**
 * Licence status (R-LI-4): Bitstring Status List v1.0, one list per issuing agency and
 * purpose (revocation, suspension), each licence at one random index of its agency's lists
 * (the same index in both). Staff of the issuing agency revoke, suspend and reinstate with a
 * reason; every change is logged in status_audit in the same transaction as the bits.
 *
 * States and what each action may do (anything else is CONFLICT, nothing stored):
 *
 *   active ──suspend──► suspended ──reinstate──► active
 *   active | suspended ──revoke──► revoked (final)
 *
 * The sealed status-list credential is cached in the row: re-sealed when the bits changed or
 * when less than half its ttl is left, so verifiers' caches always get at least ttl/2.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../../kernel/db.ts';
import { AppError, isAppError } from '../../kernel/errors.ts';
import {
  MIN_LIST_ENTRIES, buildStatusListCredential, emptyBitstring, issuerId, setBit, signStatusList, type StatusEntry, type StatusListSource, type StatusPurpose,
} from '../../seal/index.ts';
import { fetchLimited, loadAnchors, readStatusList, type ChainCertificate } from '../../seal/index.ts';
import { LICENCE_SCHEMA as S } from './migrations.ts';
import type { TrustStore } from './trust.ts';
import type { FederationMembers } from './federation-members.ts';

export const STATUS_PURPOSES: readonly StatusPurpose[] = ['revocation', 'suspension'];
export type LicenceState = 'active' | 'suspended' | 'revoked';
export type StatusAction = 'revoke' | 'suspend' | 'reinstate';

export const statusListUrl = (base: string, agencyCode: string, purpose: StatusPurpose): string =>
  `${base.replace(/\/$/, '')}/status/${encodeURIComponent(agencyCode)}/${purpose}`;

/** The agency's lists exist; a free random index (the caller holds the agency's seal lock). */
/**
 * Reserve a random free index in the agency's status lists for the licence about to be issued
 * (herd privacy: indexes say nothing about issue order). The reservation is the licence_status
 * row itself, unique per agency, so concurrent issuances of one agency never share an index and
 * need no lock; the licence row follows in the same transaction (the reference is deferred).
 */
export async function reserveStatus(q: Queryable, licenceId: string, agency: { code: string; name: string }, base: string): Promise<{ index: number; entries: StatusEntry[] }> {
  // The agency's first licence makes its lists (16 KiB of bits each: not sent for every licence).
  const { rows: lists } = await q.query<{ n: number }>(`select count(*)::int as n from ${S}.status_lists where agency_code = $1`, [agency.code]);
  if (lists[0]!.n < STATUS_PURPOSES.length) {
    for (const purpose of STATUS_PURPOSES) {
      await q.query(`insert into ${S}.status_lists (agency_code, purpose, agency_name, bits) values ($1, $2, $3, $4) on conflict do nothing`,
        [agency.code, purpose, agency.name, emptyBitstring()]);
    }
  }
  for (let attempt = 0; attempt < 64; attempt++) {
    const index = randomInt(MIN_LIST_ENTRIES);
    const { rows } = await q.query(
      `insert into ${S}.licence_status (licence_id, agency_code, status_index) values ($1, $2, $3) on conflict do nothing returning status_index`,
      [licenceId, agency.code, index]);
    if (rows.length === 1) {
      return {
        index,
        entries: STATUS_PURPOSES.map((purpose) => {
          const url = statusListUrl(base, agency.code, purpose);
          return { id: `${url}#${index}`, type: 'BitstringStatusListEntry', statusPurpose: purpose, statusListIndex: String(index), statusListCredential: url };
        }),
      };
    }
  }
  throw new AppError('CONFLICT', '状态列表已满 / the agency\'s status list is full');
}

/** What each action leads to from each state; absent = not allowed. */
const TRANSITIONS: Record<StatusAction, Partial<Record<LicenceState, LicenceState>>> = {
  suspend: { active: 'suspended' },
  reinstate: { suspended: 'active' },
  revoke: { active: 'revoked', suspended: 'revoked' },
};

export interface StatusChange {
  licenceId: string;
  action: StatusAction;
  reason: string;
  actor: { id: string; name: string; agency: string };
}

async function flip(q: Queryable, agencyCode: string, purpose: StatusPurpose, index: number, on: boolean): Promise<void> {
  const { rows } = await q.query<{ bits: Uint8Array }>(
    `select bits from ${S}.status_lists where agency_code = $1 and purpose = $2 for update`, [agencyCode, purpose]);
  if (!rows[0]) throw new AppError('INTERNAL', 'status list missing');
  const bits = Buffer.from(rows[0].bits);
  setBit(bits, index, on);
  await q.query(`update ${S}.status_lists set bits = $3, version = version + 1 where agency_code = $1 and purpose = $2`, [agencyCode, purpose, bits]);
}

/** Apply a change in the caller's transaction; returns the new state. */
export async function changeStatus(q: Queryable, c: StatusChange, now: Date): Promise<LicenceState> {
  const reason = c.reason.trim();
  if (!reason || reason.length > 500) throw new AppError('BAD_INPUT', '请填写原因（500字以内）/ a reason (at most 500 characters) is required', { field: 'reason' });
  const { rows } = await q.query<{ agency_code: string; status_index: number; state: LicenceState }>(
    `select agency_code, status_index, state from ${S}.licence_status where licence_id = $1 for update`, [c.licenceId]);
  const row = rows[0];
  if (!row) throw new AppError('CONFLICT', '该证照签发时尚无状态列表，无法变更状态 / this licence was issued without a status entry');
  const next = TRANSITIONS[c.action][row.state];
  if (!next) throw new AppError('CONFLICT', `证照当前状态为 ${row.state}，不能${c.action} / a ${row.state} licence cannot be ${c.action}d`, { state: row.state });
  await flip(q, row.agency_code, 'revocation', row.status_index, next === 'revoked');
  await flip(q, row.agency_code, 'suspension', row.status_index, next === 'suspended');
  await q.query(`update ${S}.licence_status set state = $2, reason = $3, changed_at = $4 where licence_id = $1`, [c.licenceId, next, reason, now]);
  await q.query(
    `insert into ${S}.status_audit (id, licence_id, action, reason, actor_id, actor_name, agency_code, at) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [randomUUID(), c.licenceId, c.action, reason, c.actor.id, c.actor.name, c.actor.agency, now]);
  return next;
}

export async function stateOf(q: Queryable, licenceId: string): Promise<{ state: LicenceState; reason: string | null }> {
  const { rows } = await q.query<{ state: LicenceState; reason: string | null }>(`select state, reason from ${S}.licence_status where licence_id = $1`, [licenceId]);
  return rows[0] ?? { state: 'active', reason: null };
}

export async function statusHistory(q: Queryable, licenceId: string): Promise<Array<{ action: string; reason: string; actorName: string; at: string }>> {
  const { rows } = await q.query<{ action: string; reason: string; actor_name: string; at: Date | string }>(
    `select action, reason, actor_name, at from ${S}.status_audit where licence_id = $1 order by at, id`, [licenceId]);
  return rows.map((r) => ({ action: r.action, reason: r.reason, actorName: r.actor_name, at: new Date(r.at).toISOString() }));
}

/** The sealed status-list credential of an agency and purpose; null when the agency has none. */
export async function sealedStatusList(
  db: Db, trust: TrustStore, o: { agencyCode: string; purpose: StatusPurpose; base: string; ttlMs: number; now: Date },
): Promise<{ jws: string; validUntil: Date } | null> {
  // Fast path without a lock: most requests find a current sealed copy.
  const { rows: peek } = await db.query<{ signed: string | null; fresh: boolean }>(
    `select signed, (signed_version = version and signed_valid_until > $3) as fresh from ${S}.status_lists where agency_code = $1 and purpose = $2`,
    [o.agencyCode, o.purpose, new Date(o.now.getTime() + o.ttlMs / 2)]);
  if (!peek[0]) return null;
  const url = statusListUrl(o.base, o.agencyCode, o.purpose);
  // A list sealed under another public URL (LICENCE_PUBLIC_URL changed since) names another list: sealed again.
  const current = (signed: string | null) => (signed ? JSON.parse(Buffer.from(signed.split('.')[1] ?? '', 'base64url').toString()) as { validUntil: string; id: string } : null);
  const peeked = current(peek[0].signed);
  if (peek[0].fresh && peeked?.id === url) return { jws: peek[0].signed!, validUntil: new Date(peeked.validUntil) };
  return db.tx(async (q) => {
    const { rows: named } = await q.query<{ agency_name: string }>(`select agency_name from ${S}.status_lists where agency_code = $1 and purpose = $2`, [o.agencyCode, o.purpose]);
    if (!named[0]) return null;
    // The seal first (it takes the agency's seal lock shared), the row lock after: a seal
    // revocation holds that lock and then clears these rows, so the other order could deadlock.
    const seal = await trust.sealFor(q, { code: o.agencyCode, name: named[0].agency_name });
    const { rows } = await q.query<{ agency_name: string; bits: Uint8Array; version: number; signed: string | null; signed_version: number | null; signed_valid_until: Date | string | null }>(
      `select * from ${S}.status_lists where agency_code = $1 and purpose = $2 for update`, [o.agencyCode, o.purpose]);
    const row = rows[0]!;
    const until = row.signed_valid_until ? new Date(row.signed_valid_until) : null;
    if (row.signed && row.signed_version === row.version && until && until.getTime() - o.now.getTime() > o.ttlMs / 2 && current(row.signed)?.id === url) {
      return { jws: row.signed, validUntil: until };
    }
    const credential = buildStatusListCredential({
      url, issuer: { id: issuerId(o.agencyCode), name: row.agency_name },
      purpose: o.purpose, bits: Buffer.from(row.bits), now: o.now, ttlMs: o.ttlMs,
    });
    const jws = await signStatusList(credential, { privateKey: seal.privateKey, chainPem: seal.chainPem }, o.now);
    const validUntil = new Date(credential.validUntil);
    await q.query(`update ${S}.status_lists set signed = $3, signed_version = $4, signed_valid_until = $5 where agency_code = $1 and purpose = $2`,
      [o.agencyCode, o.purpose, jws, row.version, validUntil]);
    return { jws, validUntil };
  });
}

const LIST_PATH = /\/status\/([0-9A-Z]{18})\/(revocation|suspension)$/;

/** Remote lists kept in memory (least recently used dropped first): one per agency and purpose seen. */
export const REMOTE_LIST_LIMIT = 256;

/** Purpose and issuing agency a list claims, read before verifying only to know what to verify it as. */
function claimedList(jws: string): { purpose: StatusPurpose; issuerCode: string } | null {
  try {
    const p = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString()) as { issuer?: { id?: unknown }; credentialSubject?: { statusPurpose?: unknown } };
    const purpose = p.credentialSubject?.statusPurpose;
    const id = p.issuer?.id;
    if ((purpose !== 'revocation' && purpose !== 'suspension') || typeof id !== 'string' || !id.startsWith('urn:uscc:')) return null;
    return { purpose, issuerCode: id.slice('urn:uscc:'.length) };
  } catch {
    return null;
  }
}

/** What one verification learns from the lists it asks for (./verify-answer.ts). */
export interface StatusListUse {
  /** The licence names a list outside every trusted member's status-list base (federated service). */
  outside(url: string): void;
  /** Another platform's list, as verified and used. */
  remote(url: string, jws: string): void;
}

export interface ServiceStatusLists extends StatusListSource {
  get(url: string, use?: StatusListUse): Promise<string | null>;
}

/**
 * Status lists for the service's own /verify: this service's lists straight from the database;
 * other platforms' lists (a licence of another city or province) fetched over HTTP (size limit,
 * timeout, no redirects) and kept in a bounded memory. Only reached after the licence's seal
 * chain verified, so the URLs come from trusted issuers; a federated service (`members`)
 * fetches only from a member's published status-list base (R-LI-3). An answer is kept only once
 * it verified as a sealed list of the agency it names under this platform's anchors (its
 * validUntil read from the verified payload), and neither a bad answer nor an older list
 * replaces a good copy. checkStatus verifies again against the licence's own entry.
 *
 * Freshness: a copy is used as is for `refreshMs` after it was fetched (LICENCE_STATUS_REFRESH_SECONDS),
 * then fetched again; when that fails — the issuing platform or the federation cannot be
 * reached — the copy keeps serving until its own validUntil (offline verification).
 */
export function serviceStatusLists(o: {
  db: Db; trust: TrustStore; base: string; ttlMs: number; now: () => Date; fetch?: typeof fetch; maxBytes?: number; remoteLimit?: number;
  /** The federation's members (./federation-members.ts): other platforms' lists are fetched only from their published bases. */
  members?: FederationMembers | null | undefined;
  /** How long a fetched copy is used before it is fetched again (milliseconds; default 60 s; 0: every time). */
  refreshMs?: number | undefined;
}): ServiceStatusLists {
  const remote = new Map<string, { jws: string; until: number; from: number; fetchedAt: number }>();
  const doFetch = o.fetch ?? fetch;
  const own = o.base.replace(/\/$/, '');
  const refreshMs = o.refreshMs ?? 60_000;
  let anchors: Promise<ChainCertificate[]> | undefined;
  const anchorsNow = () => (anchors ??= o.trust.ensureHierarchy().then((pems) => loadAnchors(pems)));
  const remember = (url: string, v: { jws: string; until: number; from: number; fetchedAt: number }) => {
    remote.delete(url);
    remote.set(url, v);
    while (remote.size > (o.remoteLimit ?? REMOTE_LIST_LIMIT)) remote.delete(remote.keys().next().value!);
  };
  return {
    async get(url, use) {
      const m = LIST_PATH.exec(url);
      if (url.startsWith(`${own}/status/`) && m) {
        try {
          const r = await sealedStatusList(o.db, o.trust, { agencyCode: m[1]!, purpose: m[2] as StatusPurpose, base: o.base, ttlMs: o.ttlMs, now: o.now() });
          return r?.jws ?? null;
        } catch (e) {
          // No usable seal to seal the list with (external mode, the seal revoked and no new one
          // installed yet): no list at hand, so the answer is LICENCE_STATUS_UNAVAILABLE.
          if (isAppError(e) && e.code === 'SEAL_NOT_FOUND') return null;
          throw e;
        }
      }
      const now = o.now().getTime();
      const hit = remote.get(url);
      // Every remote list handed out is reported, so the caller can tie it to the licence's CA.
      const give = (jws: string | undefined): string | null => {
        if (jws) use?.remote(url, jws);
        return jws ?? null;
      };
      const cached = () => give(hit?.jws);
      if (hit && hit.until > now && now - hit.fetchedAt < refreshMs) {
        remember(url, hit);
        return cached();
      }
      if (!/^https?:\/\//.test(url)) return null;
      // A federated service fetches only from a member's published base.
      const member = o.members ? await o.members.memberFor(url) : null;
      if (member === 'outside') {
        use?.outside(url);
        return null;
      }
      if (member === 'unreachable') return cached();
      try {
        const jws = (await fetchLimited(doFetch, url, { accept: 'application/vc+jwt', timeoutMs: 5000, ...(o.maxBytes ? { maxBytes: o.maxBytes } : {}) })).toString('utf8').trim();
        const claimed = claimedList(jws);
        if (!claimed) return cached();
        const entry: StatusEntry = { id: `${url}#0`, type: 'BitstringStatusListEntry', statusPurpose: claimed.purpose, statusListIndex: '0', statusListCredential: url };
        await readStatusList(jws, entry, claimed.issuerCode, await anchorsNow(), o.now(), (s, i) => o.trust.isRevoked(s, i));
        const { validUntil, validFrom } = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as { validUntil: string; validFrom: string };
        const from = Date.parse(validFrom);
        // An older list than the copy at hand (replayed) does not replace it.
        if (hit && hit.from > from) return cached();
        remember(url, { jws, until: Date.parse(validUntil), from, fetchedAt: now });
        return give(jws);
      } catch {
        return cached();
      }
    },
  };
}
