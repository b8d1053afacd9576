/**
 * Revocation of certificates, from two sources: CRLs the CAs publish (`yiwang seal revoke`,
 * RFC 5280 §5) and a callback of the caller's (an OCSP client, or the licence service's own
 * table of revoked seals). Every certificate of the path but the anchor is asked about: an
 * anchor is withdrawn by taking it out of the trust bundle. The callback's key is the serial
 * number in upper-case hex and the issuer name in node's form — the same strings
 * describeCertificate() gives — so the service can store them when it revokes a seal.
 * A lookup that throws is a fault, not a verdict: the error goes to the caller.
 *
 * When a revoked certificate still counts (RFC 5280 §5.3.1, RFC 3161 §4): only when the
 * revocation says the key was NOT compromised — reason affiliationChanged (the agency renamed),
 * superseded or cessationOfOperation — and the signature is proven (a verified platform
 * timestamp, `provenAt`) to be older than the revocationDate. A licence sealed before its seal
 * certificate was superseded stays valid (for a TSA certificate also after unspecified, RFC 3161
 * §4, when the CRL entry carries that reasonCode); after a keyCompromise (or unspecified, cACompromise,
 * certificateHold, or a callback that only answers "revoked") nothing signed with the key is
 * trusted, whenever it claims to have been signed: the CRLs here carry no invalidityDate
 * (RFC 5280 §5.3.2), so the time of compromise is unknown. Without a timestamp the signing
 * time is only the signer's word and never saves a revoked certificate.
 */
import { reject } from '../lib/rejection.ts';
import { listedIn } from '../trust/crl.ts';
import { CRL_REASONS, type CrlReason, type ParsedCrl } from '../x509/index.ts';
import { oneLineName, type ChainCertificate } from './certificate.ts';

/** What is known of a revocation: when (the CRL entry's revocationDate) and why (RFC 5280 §5.3.1). */
export interface RevocationRecord { revokedAt: Date; reason: CrlReason | null }

/** true / a record: revoked; false / null: not revoked (as far as this source knows). */
export type RevocationCheck = (serialHex: string, issuerDn: string) => boolean | RevocationRecord | null | Promise<boolean | RevocationRecord | null>;

/** Reasons saying the key was not compromised: signatures proven older than the revocation stand. */
export const NON_COMPROMISE_REASONS: ReadonlySet<CrlReason> = new Set(['affiliationChanged', 'superseded', 'cessationOfOperation']);

const REASON_NAMES = new Map<number, CrlReason>(Object.entries(CRL_REASONS).map(([name, n]) => [n, name as CrlReason]));

/** A CRL entry as a record (its reasonCode number named). */
export function crlRecord(entry: { revokedAt: Date; reason: number | null }): RevocationRecord {
  return { revokedAt: entry.revokedAt, reason: entry.reason === null ? null : REASON_NAMES.get(entry.reason) ?? null };
}

/**
 * A timestamp authority's certificate (RFC 3161 §4): a reasonCode present and unspecified (0)
 * also says "retired, not compromised"; only keyCompromise, or no reasonCode at all, voids
 * every token it made.
 */
export const TSA_NON_COMPROMISE_REASONS: ReadonlySet<CrlReason> = new Set([...NON_COMPROMISE_REASONS, 'unspecified']);

/** True when a signature proven to exist at `provenAt` survives this revocation. */
export function signedBeforeRevocation(r: RevocationRecord, provenAt: Date | undefined, reasons: ReadonlySet<CrlReason> = NON_COMPROMISE_REASONS): boolean {
  return provenAt !== undefined && r.reason !== null && reasons.has(r.reason) && provenAt < r.revokedAt;
}

export async function checkNotRevoked(
  path: readonly ChainCertificate[], isRevoked: RevocationCheck | undefined, crls: readonly ParsedCrl[] = [],
  /** The signing time a verified timestamp proves; absent when there is none. */
  provenAt?: Date,
  /** The path's end certificate is a timestamp authority's (RFC 3161 §4 rules for its reasons). */
  timestampAuthority = false,
): Promise<void> {
  if (!isRevoked && crls.length === 0) return;
  for (let i = 0; i + 1 < path.length; i++) {
    const { cert } = path[i]!;
    const listed = listedIn(crls, cert, path[i + 1]!.cert);
    const asked = listed ? null : isRevoked ? await isRevoked(cert.serialNumber.toUpperCase(), oneLineName(cert.issuer)) : null;
    const record = listed ? crlRecord(listed) : asked === true ? { revokedAt: new Date(0), reason: null } : asked || null;
    if (!record || signedBeforeRevocation(record, provenAt, timestampAuthority && i === 0 ? TSA_NON_COMPROMISE_REASONS : NON_COMPROMISE_REASONS)) continue;
    const why = record.reason ? `，原因 ${record.reason} / reason ${record.reason}` : '';
    reject('LICENCE_CERT_REVOKED', `证书已被吊销：${oneLineName(cert.subject)}（序列号 ${cert.serialNumber}）${why} / certificate revoked (serial ${cert.serialNumber})`);
  }
}
