/**
 * Revocation of certificates, from two sources: CRLs the CAs publish (`yiwang seal revoke`,
 * RFC 5280 §5) and a callback of the caller's (an OCSP client, or the licence service's own
 * table of revoked seals). Every certificate of the path but the anchor is asked about: an
 * anchor is withdrawn by taking it out of the trust bundle. The callback's key is the serial
 * number in upper-case hex and the issuer name in node's form — the same strings
 * describeCertificate() gives — so the service can store them when it revokes a seal.
 * A lookup that throws is a fault, not a verdict: the error goes to the caller. When both
 * sources know a certificate, each must spare the signature for it to count (the stricter wins).
 *
 * When a revoked certificate still counts (RFC 5280 §5.3.1, §5.3.2, RFC 3161 §4) — always only
 * for a signature proven (a verified platform timestamp, `provenAt`) to be older than a cut-off:
 * - revoked for a reason that says the key was NOT compromised — affiliationChanged (the agency
 *   renamed), superseded or cessationOfOperation: the cut-off is the revocationDate, or the
 *   entry's invalidityDate when that is earlier;
 * - revoked for keyCompromise with an invalidityDate (when the key is known or suspected to
 *   have been compromised): the cut-off is that date (the revocationDate if earlier). A licence
 *   sealed before the key was compromised is still the agency's.
 * For a timestamp authority's certificate a reasonCode present and unspecified also says "retired,
 * not compromised" (RFC 3161 §4).
 * After keyCompromise without an invalidityDate (or unspecified, cACompromise, certificateHold,
 * or a callback that only answers "revoked") nothing signed with the key is trusted, whenever
 * it claims to have been signed. Without a timestamp the signing time is only the signer's word
 * and never saves a revoked certificate.
 */
import { AppError } from '../../kernel/errors.ts';
import { reject } from '../lib/rejection.ts';
import { isoDateTime } from '../licence/credential.ts';
import { listedIn } from '../trust/crl.ts';
import { CRL_REASONS, type CrlReason, type ParsedCrl, type ParsedCrlEntry } from '../x509/index.ts';
import { oneLineName, type ChainCertificate } from './certificate.ts';

/**
 * What is known of a revocation: when (the CRL entry's revocationDate), why (RFC 5280 §5.3.1)
 * and, when known, since when the key is compromised (invalidityDate, §5.3.2).
 */
export interface RevocationRecord { revokedAt: Date; reason: CrlReason | null; invalidityDate?: Date | null | undefined }

/** true / a record: revoked; false / null: not revoked (as far as this source knows). */
export type RevocationCheck = (serialHex: string, issuerDn: string) => boolean | RevocationRecord | null | Promise<boolean | RevocationRecord | null>;

/** Reasons saying the key was not compromised: signatures proven older than the revocation stand. */
export const NON_COMPROMISE_REASONS: ReadonlySet<CrlReason> = new Set(['affiliationChanged', 'superseded', 'cessationOfOperation']);

const REASON_NAMES = new Map<number, CrlReason>(Object.entries(CRL_REASONS).map(([name, n]) => [n, name as CrlReason]));

/** The name of a reasonCode number (RFC 5280 §5.3.1); null when absent or not one of ours. */
export const reasonName = (n: number | null): CrlReason | null => (n === null ? null : REASON_NAMES.get(n) ?? null);

/** A CRL entry as a record (its reasonCode number named). */
export function crlRecord(entry: ParsedCrlEntry): RevocationRecord {
  return { revokedAt: entry.revokedAt, reason: reasonName(entry.reason), invalidityDate: entry.invalidityDate };
}

/** Signatures proven older than this survive the revocation; null: none does. */
export function revocationCutOff(r: RevocationRecord, nonCompromise: ReadonlySet<CrlReason> = NON_COMPROMISE_REASONS): Date | null {
  const invalid = r.invalidityDate ?? null;
  const earliest = invalid && invalid < r.revokedAt ? invalid : r.revokedAt;
  if (r.reason !== null && nonCompromise.has(r.reason)) return earliest;
  if (r.reason === 'keyCompromise' && invalid) return earliest;
  return null;
}

/**
 * A timestamp authority's certificate (RFC 3161 §4): a reasonCode present and unspecified (0)
 * also says "retired, not compromised"; only keyCompromise, or no reasonCode at all, voids
 * every token it made.
 */
export const TSA_NON_COMPROMISE_REASONS: ReadonlySet<CrlReason> = new Set([...NON_COMPROMISE_REASONS, 'unspecified']);

/** True when a signature proven to exist at `provenAt` survives this revocation. */
export function signedBeforeRevocation(r: RevocationRecord, provenAt: Date | undefined, nonCompromise: ReadonlySet<CrlReason> = NON_COMPROMISE_REASONS): boolean {
  const cutOff = revocationCutOff(r, nonCompromise);
  return provenAt !== undefined && cutOff !== null && provenAt < cutOff;
}

/**
 * An invalidity date given by an operator (`yiwang seal revoke --invalidity-date`, the licence
 * service's revokeSealCertificate): ISO 8601 with a time zone, not after `now`, and only for
 * keyCompromise; cut to whole seconds (a CRL carries no fractions, and earlier spares less).
 * Throws BAD_INPUT naming `field`.
 */
export function readInvalidityDate(value: string, reason: CrlReason, now: Date, field: string): Date {
  if (reason !== 'keyCompromise') {
    throw new AppError('BAD_INPUT', `失效日期只用于密钥泄露（keyCompromise）/ ${field} is only given with the reason keyCompromise`, { field });
  }
  const at = new Date(Math.floor(Date.parse(isoDateTime(field, value.trim())) / 1000) * 1000);
  if (at > now) throw new AppError('BAD_INPUT', `失效日期不能晚于当前时间 / ${field} cannot be in the future`, { field });
  return at;
}

const why = (r: RevocationRecord): string => {
  const reason = r.reason ? `，原因 ${r.reason} / reason ${r.reason}` : '';
  const since = r.invalidityDate ? `，自 ${r.invalidityDate.toISOString()} 起失效 / invalid since ${r.invalidityDate.toISOString()}` : '';
  return reason + since;
};

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
    const asked = isRevoked ? await isRevoked(cert.serialNumber.toUpperCase(), oneLineName(cert.issuer)) : null;
    const records = [listed ? crlRecord(listed) : null, asked === true ? { revokedAt: new Date(0), reason: null } : asked || null];
    for (const record of records) {
      if (!record || signedBeforeRevocation(record, provenAt, timestampAuthority && i === 0 ? TSA_NON_COMPROMISE_REASONS : NON_COMPROMISE_REASONS)) continue;
      reject('LICENCE_CERT_REVOKED', `证书已被吊销：${oneLineName(cert.subject)}（序列号 ${cert.serialNumber}）${why(record)} / certificate revoked (serial ${cert.serialNumber})`);
    }
  }
}
