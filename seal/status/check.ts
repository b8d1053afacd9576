/**
 * Checking a licence's status entries against status-list credentials (Bitstring Status List
 * v1.0 §3.2 "Validate Algorithm"), from wherever the verifier gets them: the licence service's
 * own table, or a cache on disk that the CLI refreshes with --online.
 *
 * For each entry:
 *  - no list available                                             LICENCE_STATUS_UNAVAILABLE
 *  - list not a sealed VC of type BitstringStatusListCredential, other id or purpose,
 *    not sealed by the licence's own agency under a trusted root, bad encodedList,
 *    index outside the list                                       LICENCE_STATUS_LIST_INVALID
 *  - list past its validUntil (an expired cache, or an old list replayed)   LICENCE_STATUS_UNAVAILABLE
 *  - bit set: revocation → LICENCE_REVOKED, suspension → LICENCE_SUSPENDED
 */
import { createHash } from 'node:crypto';
import { compactVerify } from 'jose';
import type { ChainCertificate } from '../chain/certificate.ts';
import { buildPath } from '../chain/path.ts';
import { checkNotRevoked, type RevocationCheck } from '../chain/revocation.ts';
import type { ParsedCrl } from '../x509/index.ts';
import { checkValidAt } from '../chain/validity.ts';
import { reject, Rejection } from '../lib/rejection.ts';
import { LICENCE_ALGORITHMS, parseCompact } from '../licence/compact.ts';
import { issuerId, type LicenceCredential, type StatusEntry } from '../licence/credential.ts';
import { bitAt, decodeList } from './bitstring.ts';
import { STATUS_LIST_CREDENTIAL_TYPE } from './list-credential.ts';

/** Where status-list credentials come from; null when none is at hand. */
export interface StatusListSource {
  get(url: string): Promise<string | null>;
}

const CLOCK_SKEW_MS = 5 * 60 * 1000;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(message: string): never {
  return reject('LICENCE_STATUS_LIST_INVALID', `状态列表无效：${message}`);
}

export function statusEntries(c: LicenceCredential): StatusEntry[] {
  const s = c.credentialStatus;
  return s === undefined ? [] : Array.isArray(s) ? s : [s];
}

/** Verify a status-list credential and return its bitstring. */
export async function readStatusList(
  jws: string, entry: StatusEntry, issuerCode: string, anchors: readonly ChainCertificate[], now: Date, isRevoked: RevocationCheck | undefined, crls: readonly ParsedCrl[] = [],
): Promise<Buffer> {
  let header: Record<string, unknown>;
  let path: ChainCertificate[];
  try {
    ({ header } = parseCompact(jws.trim()));
    path = buildPath(header.x5c, anchors);
  } catch (e) {
    if (e instanceof Rejection) invalid(`${e.message} (${e.reason})`);
    throw e;
  }
  let bytes: Uint8Array;
  try {
    ({ payload: bytes } = await compactVerify(jws.trim(), path[0]!.cert.publicKey, { algorithms: [...LICENCE_ALGORITHMS] }));
  } catch {
    return invalid('签名无法验证 / the status list signature does not verify');
  }
  const p: unknown = JSON.parse(new TextDecoder().decode(bytes));
  if (!isObject(p) || !Array.isArray(p.type) || !p.type.includes(STATUS_LIST_CREDENTIAL_TYPE)) invalid('不是状态列表凭证 / not a BitstringStatusListCredential');
  if (p.id !== entry.statusListCredential) invalid('不是证照所指的列表 / another list than the licence names');
  const issuer = p.issuer;
  const sealCode = path[0]!.profile.organizationIdentifier;
  if (!isObject(issuer) || issuer.id !== issuerId(issuerCode) || p.iss !== issuer.id || sealCode !== issuerCode) {
    invalid('不是发证机关签发 / not sealed by the licence\'s issuing agency');
  }
  const subject = p.credentialSubject;
  if (!isObject(subject) || subject.type !== 'BitstringStatusList' || subject.statusPurpose !== entry.statusPurpose) {
    invalid(`用途不是 ${entry.statusPurpose} / not a ${entry.statusPurpose} list`);
  }
  const from = typeof p.validFrom === 'string' ? new Date(p.validFrom) : null;
  const until = typeof p.validUntil === 'string' ? new Date(p.validUntil) : null;
  if (!from || !until || Number.isNaN(from.getTime()) || Number.isNaN(until.getTime())) invalid('缺少有效期 / validFrom and validUntil are required');
  if (from.getTime() > now.getTime() + CLOCK_SKEW_MS) invalid('签发时间在未来 / issued in the future');
  // The JWT's own time claims, when the list carries them (RFC 7519 §4.1.4, §4.1.5), bind as validFrom/validUntil do.
  const numericDate = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if ((p.nbf !== undefined && !numericDate(p.nbf)) || (p.exp !== undefined && !numericDate(p.exp))) invalid('nbf/exp 不是 NumericDate / nbf or exp is not a NumericDate');
  if (p.nbf !== undefined && (p.nbf as number) * 1000 > now.getTime() + CLOCK_SKEW_MS) invalid('尚未生效（nbf）/ not valid yet (nbf)');
  const expires = p.exp !== undefined ? new Date(Math.min(until.getTime(), (p.exp as number) * 1000)) : until;
  if (expires <= now) {
    reject('LICENCE_STATUS_UNAVAILABLE', `状态列表已于 ${expires.toISOString()} 过期，请联网刷新 / the status list expired at ${expires.toISOString()}; refresh it online`);
  }
  try {
    checkValidAt(path, from);
    await checkNotRevoked(path, isRevoked, crls);
  } catch (e) {
    if (e instanceof Rejection) invalid(`${e.message} (${e.reason})`);
    throw e;
  }
  const bits = decodeList(subject.encodedList);
  if (!bits) invalid('encodedList 不是 16KB 以上的 GZIP 位串 / encodedList is not a GZIP bitstring of at least 16 KB');
  return bits;
}

/**
 * Check every entry; returns how many could not be checked because no list was at hand, which
 * is LICENCE_STATUS_UNAVAILABLE unless `missingAllowed` (a verifier that has never fetched the
 * lists: the answer then says the status was not checked). An expired list is never allowed.
 */
/** Verified lists by their exact text and what they were checked for, kept until they expire. */
export type StatusListMemo = Map<string, { bits: Buffer; until: number }>;

export async function checkStatus(
  credential: LicenceCredential, source: StatusListSource, anchors: readonly ChainCertificate[], now: Date, isRevoked: RevocationCheck | undefined,
  crls: readonly ParsedCrl[] = [], missingAllowed = false, memo?: StatusListMemo, memoScope = '',
): Promise<number> {
  const issuerCode = credential.credentialSubject.licence.issuerCode;
  let unchecked = 0;
  for (const entry of statusEntries(credential)) {
    const jws = await source.get(entry.statusListCredential);
    if (!jws && missingAllowed) {
      unchecked++;
      continue;
    }
    if (!jws) {
      reject('LICENCE_STATUS_UNAVAILABLE', `没有可用的状态列表 ${entry.statusListCredential}，请联网刷新 / no status list at hand for ${entry.statusListCredential}; refresh it online`);
    }
    // A memo hit is the same bytes already verified for the same list, purpose, issuer and trust
    // anchors (memoScope), and still before their validUntil; CRL-based revocation of the list's seal is not re-asked then.
    // Keyed by a digest of the parts as a JSON array: no list URL or text can imitate another's key.
    const key = createHash('sha256').update(JSON.stringify([memoScope, entry.statusListCredential, entry.statusPurpose, issuerCode, jws])).digest('base64url');
    const hit = memo?.get(key);
    let bits: Buffer;
    if (hit && hit.until > now.getTime()) bits = hit.bits;
    else {
      bits = await readStatusList(jws, entry, issuerCode, anchors, now, isRevoked, crls);
      const claims = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString()) as { validUntil?: string; exp?: number };
      const until = Math.min(Date.parse(claims.validUntil ?? ''), claims.exp !== undefined ? claims.exp * 1000 : Infinity);
      if (memo && memo.size >= 1000) memo.clear(); // bounded: one entry per list version
      memo?.set(key, { bits, until });
    }
    const index = Number(entry.statusListIndex);
    if (index >= bits.length * 8) invalid('索引超出列表 / the index is outside the list');
    if (bitAt(bits, index)) {
      if (entry.statusPurpose === 'revocation') reject('LICENCE_REVOKED', '证照已被发证机关撤销 / the licence has been revoked by its issuer');
      reject('LICENCE_SUSPENDED', '证照已被暂停使用 / the licence is suspended');
    }
  }
  return unchecked;
}
