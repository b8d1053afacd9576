/**
 * Verify a sealed licence, offline, against the verifier's own trust anchors (R-LI-4). Never
 * throws for a bad licence: the answer names the first failed check with its code. It does
 * throw for faults on the verifier's side (no or unparsable trust anchors: CONFIG_INVALID; a
 * revocation lookup that fails).
 *
 * The checks, cheapest first; nothing from the payload is believed before step 7:
 *  1. compact JWS shape, typ, alg                        LICENCE_MALFORMED / LICENCE_UNSIGNED
 *  2. payload shape (VC 2.0 + iss, jti, iat)            LICENCE_MALFORMED
 *  3. x5c present and parsable                          LICENCE_BROKEN_CHAIN
 *  4. role of each certificate (seal / CA, pathLen)     LICENCE_WRONG_KEY_USAGE
 *  5. each certificate issued by the next               LICENCE_BROKEN_CHAIN
 *  6. chain ends at a configured anchor                 LICENCE_UNKNOWN_ISSUER (+ anchor's role)
 *  7. JWS signature with the seal certificate's key     LICENCE_BAD_SIGNATURE
 *  8. every certificate valid at iat                    LICENCE_CERT_NOT_VALID_AT_SIGNING
 *  9. no certificate revoked                            LICENCE_CERT_REVOKED
 *     (unless revoked as superseded, cessationOfOperation or affiliationChanged after the
 *     signing time a platform timestamp proves: ../chain/revocation.ts)
 *     and the CRLs given are current (requireCrls: present for every distribution point)
 *                                                       LICENCE_STATUS_UNAVAILABLE
 *    (8 and 9 judge the chain at the platform timestamp's genTime when the licence carries one,
 *    LICENCE_TIMESTAMP_INVALID when that token fails; without a token iat is only the signer's
 *    word, so the seal chain must also be valid now: else LICENCE_TIMESTAMP_REQUIRED)
 * 10. iss = issuer.id = urn:uscc:<seal's organizationIdentifier> = urn:uscc:<licence.issuerCode>,
 *     and issuer.name = licence.issuerName = the seal's organizationName: every issuer identity
 *     shown with the licence is the seal certificate's subject     LICENCE_ISSUER_MISMATCH
 * 11. status lists, when the caller gives a source      LICENCE_REVOKED / LICENCE_SUSPENDED /
 *                                                       LICENCE_STATUS_UNAVAILABLE / LICENCE_STATUS_LIST_INVALID
 * 12. signed no later than now; nbf ≤ now (RFC 7519 §4.1.5); validFrom ≤ now < validUntil (and exp)
 *                                                       LICENCE_NOT_YET_VALID / LICENCE_EXPIRED
 *
 * CRLs (options.crls) and the isCertificateRevoked callback both feed step 9.
 */
import { createHash } from 'node:crypto';
import { compactVerify } from 'jose';
import type { ErrorCode } from '../../kernel/errors.ts';
import { oneLineName, type ChainCertificate } from '../chain/certificate.ts';
import { buildPath } from '../chain/path.ts';
import { checkNotRevoked, type RevocationCheck } from '../chain/revocation.ts';
import { checkValidAt } from '../chain/validity.ts';
import { decodeBase64 } from '../lib/base64.ts';
import { OID_KP_DOCUMENT_SIGNING, OID_KP_TIME_STAMPING } from '../lib/oids.ts';
import { reject, Rejection } from '../lib/rejection.ts';
import { checkStatus, type StatusListMemo, type StatusListSource } from '../status/check.ts';
import { verifyTimestamp } from '../timestamp/token.ts';
import { loadAnchors } from '../trust/bundle.ts';
import { checkCrlsCurrent, loadCrls } from '../trust/crl.ts';
import type { ParsedCrl } from '../x509/index.ts';
import { readClaims } from './claims.ts';
import { LICENCE_ALGORITHMS, parseCompact } from './compact.ts';
import { issuerId, type LicenceCredential } from './credential.ts';

export type VerifyResult =
  | {
    valid: true; credential: LicenceCredential; holder: { name: string; code: string }; issuer: { name: string; code: string };
    /** The platform timestamp's time when there is one, else iat. */
    signedAt: Date; sealSubject: string;
    /** True when signedAt comes from a verified platform timestamp. */
    timestamped?: boolean;
    /**
     * With a status source: true when every status entry was checked, false when a list was not
     * at hand (only with statusMissingAllowed). Absent without a source.
     */
    statusChecked?: boolean;
  }
  | { valid: false; reason: ErrorCode; message: string };

export interface VerifyOptions {
  /** PEM certificates trusted as chain ends (readTrustBundle splits a bundle file). */
  trustAnchorsPem: string[];
  /** Time the licence's validity is judged at; default the current time. */
  now?: Date;
  isCertificateRevoked?: RevocationCheck | undefined;
  /** PEM (or DER) CRLs published by the CAs of the hierarchy (`yiwang seal revoke`), or CRLs parsed already (parseCrl). */
  crls?: readonly (string | Buffer | ParsedCrl)[] | undefined;
  /**
   * Each certificate of the seal chain that names a CRL distribution point must be covered by a
   * current CRL in `crls`, else LICENCE_STATUS_UNAVAILABLE (the strict offline verifier). A CRL
   * past its nextUpdate is never an answer, with or without this.
   */
  requireCrls?: boolean | undefined;
  /** Where status-list credentials come from; without it the licence's status is not checked. */
  statusLists?: StatusListSource | undefined;
  /**
   * A list the source does not have is reported as `statusChecked: false` rather than
   * LICENCE_STATUS_UNAVAILABLE (an offline verifier that never fetched the lists). An expired
   * list is LICENCE_STATUS_UNAVAILABLE regardless.
   */
  statusMissingAllowed?: boolean | undefined;
  /** Memo of anchors and of chains already validated (a verifier checking many licences). */
  cache?: VerifyCache | undefined;
}

/** Reuses parsed anchors and validated certificate paths across calls (same anchors only). */
export interface VerifyCache {
  anchors: Map<string, ChainCertificate[]>;
  paths: Map<string, ChainCertificate[]>;
  /** Status lists already verified, until their validUntil. */
  lists: StatusListMemo;
}

export function createVerifyCache(): VerifyCache {
  return { anchors: new Map(), paths: new Map(), lists: new Map() };
}

/** Entries a cache map holds before it is emptied. */
export const CACHE_LIMIT = 1000;

/** Tolerated clock difference between signer and verifier for "signed in the future". */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('base64url');

/**
 * A cache key naming exactly a list of parts: the SHA-256 of each part, joined (a digest holds
 * no separator, so no two lists share a key the way joined texts can).
 */
const listKey = (parts: readonly (Buffer | string)[]): string => parts.map(sha256).join('.');

/** The anchors, and a key naming exactly this set (cached paths are only reused with the same anchors). */
function anchorsFor(o: VerifyOptions): { anchors: ChainCertificate[]; anchorsKey: string } {
  if (!o.cache) return { anchors: loadAnchors(o.trustAnchorsPem), anchorsKey: '' };
  const anchorsKey = sha256(listKey(o.trustAnchorsPem));
  let a = o.cache.anchors.get(anchorsKey);
  if (!a) {
    a = loadAnchors(o.trustAnchorsPem);
    if (o.cache.anchors.size >= CACHE_LIMIT) o.cache.anchors.clear();
    o.cache.anchors.set(anchorsKey, a);
  }
  return { anchors: a, anchorsKey };
}

/**
 * The chain cache's key for an x5c: the purpose, the anchors and the SHA-256 of each element's
 * DER, so only the very same certificates in the same order share an entry. Null (not cached)
 * when an element is not base64 text: buildPath then names the problem.
 */
function chainKey(x5c: readonly unknown[], purpose: string, anchorsKey: string): string | null {
  const ders: Buffer[] = [];
  for (const entry of x5c) {
    const der = typeof entry === 'string' ? decodeBase64(entry) : null;
    if (!der || der.length === 0) return null;
    ders.push(der);
  }
  return `${purpose}.${anchorsKey}.${listKey(ders)}`;
}

function pathFor(x5c: unknown, anchors: ChainCertificate[], anchorsKey: string, o: VerifyOptions, purpose = OID_KP_DOCUMENT_SIGNING): ChainCertificate[] {
  const key = o.cache && Array.isArray(x5c) ? chainKey(x5c, purpose, anchorsKey) : null;
  if (!o.cache || key === null) return buildPath(x5c, anchors, purpose);
  let p = o.cache.paths.get(key);
  if (!p) {
    p = buildPath(x5c, anchors, purpose);
    if (o.cache.paths.size >= CACHE_LIMIT) o.cache.paths.clear(); // bounded: a long-running service sees few chains
    o.cache.paths.set(key, p);
  }
  return p;
}

export async function verifyLicence(jws: string, o: VerifyOptions): Promise<VerifyResult> {
  const { anchors, anchorsKey } = anchorsFor(o);
  const now = o.now ?? new Date();
  const crls = o.crls?.length ? loadCrls(o.crls) : [];
  const isRevoked = o.isCertificateRevoked;
  try {
    const text = typeof jws === 'string' ? jws.trim() : jws;
    const { header, payload } = parseCompact(text);
    readClaims(payload);

    const path = pathFor(header.x5c, anchors, anchorsKey, o);
    const leaf = path[0]!;
    let verifiedPayload: Uint8Array;
    try {
      ({ payload: verifiedPayload } = await compactVerify(text, leaf.cert.publicKey, { algorithms: [...LICENCE_ALGORITHMS] }));
    } catch {
      return reject('LICENCE_BAD_SIGNATURE', '签名无法用印章证书验证 / the signature does not verify with the seal certificate\'s key');
    }
    // From here on only the verified bytes are read.
    const claims = readClaims(JSON.parse(new TextDecoder().decode(verifiedPayload)));
    const claimedAt = new Date(claims.iat * 1000);

    let signedAt = claimedAt;
    const timestamped = header.tst !== undefined;
    if (timestamped) {
      signedAt = await verifyTimestamp(header.tst, text.split('.')[1]!, anchors, isRevoked, crls,
        (x5c) => pathFor(x5c, anchors, anchorsKey, o, OID_KP_TIME_STAMPING));
      if (Math.abs(signedAt.getTime() - claimedAt.getTime()) > CLOCK_SKEW_MS) {
        reject('LICENCE_TIMESTAMP_INVALID', `平台时间戳 ${signedAt.toISOString()} 与签章时间 ${claimedAt.toISOString()} 不符 / the platform timestamp does not match iat`);
      }
    }
    checkValidAt(path, signedAt);
    if (!timestamped && (now < leaf.cert.validFromDate || now > leaf.cert.validToDate)) {
      reject('LICENCE_TIMESTAMP_REQUIRED', '印章证书已不在有效期内，且证照没有平台时间戳证明签章时间 / the seal certificate is no longer valid and the licence has no platform timestamp');
    }
    // A revocation for a reason other than key compromise spares what the timestamp proves was sealed before it.
    await checkNotRevoked(path, isRevoked, crls, timestamped ? signedAt : undefined);
    checkCrlsCurrent(path, crls, now, o.requireCrls === true);

    const sealCode = leaf.profile.organizationIdentifier;
    const { credential } = claims;
    if (claims.iss !== credential.issuer.id) reject('LICENCE_ISSUER_MISMATCH', 'iss 与 issuer.id 不符 / iss differs from issuer.id');
    if (!sealCode || credential.issuer.id !== issuerId(sealCode) || credential.credentialSubject.licence.issuerCode !== sealCode) {
      reject('LICENCE_ISSUER_MISMATCH', `发证机关与印章证书所属机构（${sealCode ?? '无'}）不符 / the issuer is not the agency of the seal certificate (${sealCode ?? 'none'})`);
    }
    // The agency's name too: a seal of agency A cannot vouch for a licence that names agency B.
    const sealName = leaf.profile.organization;
    if (!sealName || credential.issuer.name !== sealName || credential.credentialSubject.licence.issuerName !== sealName) {
      reject('LICENCE_ISSUER_MISMATCH', `发证机关名称与印章证书所属机构名称（${sealName ?? '无'}）不符 / the issuer's name is not the name of the seal certificate's agency (${sealName ?? 'none'})`);
    }

    if (signedAt.getTime() > now.getTime() + CLOCK_SKEW_MS) reject('LICENCE_NOT_YET_VALID', '签章时间晚于当前时间 / the licence was signed in the future');
    const unchecked = o.statusLists ? await checkStatus(credential, o.statusLists, anchors, now, isRevoked, crls, o.statusMissingAllowed === true, o.cache?.lists, anchorsKey) : 0;
    if (claims.nbf !== undefined && claims.nbf * 1000 > now.getTime() + CLOCK_SKEW_MS) {
      const nbf = new Date(claims.nbf * 1000).toISOString();
      reject('LICENCE_NOT_YET_VALID', `签名自 ${nbf} 起方可使用（nbf）/ the signature is not valid before ${nbf} (nbf)`);
    }
    if (new Date(credential.validFrom) > now) reject('LICENCE_NOT_YET_VALID', `证照自 ${credential.validFrom} 起有效 / the licence is valid from ${credential.validFrom}`);
    if (credential.validUntil && new Date(credential.validUntil) <= now) reject('LICENCE_EXPIRED', `证照已于 ${credential.validUntil} 到期 / the licence expired at ${credential.validUntil}`);
    if (claims.exp !== undefined && claims.exp * 1000 <= now.getTime()) reject('LICENCE_EXPIRED', '签名已过期（exp）/ the signature has expired (exp)');

    const licence = credential.credentialSubject.licence;
    return {
      valid: true,
      credential,
      holder: { name: licence.holderName, code: licence.holderCode },
      issuer: { name: credential.issuer.name, code: sealCode },
      signedAt,
      sealSubject: oneLineName(leaf.cert.subject),
      timestamped,
      ...(o.statusLists ? { statusChecked: unchecked === 0 } : {}),
    };
  } catch (e) {
    if (e instanceof Rejection) return { valid: false, reason: e.reason, message: e.message };
    throw e;
  }
}
