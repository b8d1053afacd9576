/**
 * CRLs on the verifier's side: parsed once, and matched to a certificate of the path by the
 * key that signed them — a CRL counts for certificate i when its signature verifies with the
 * key of certificate i+1, the CA that issued it (RFC 5280 §6.3.3 (f); the key identifies the
 * CA more strictly than its name). An unparsable CRL is a configuration error.
 */
import { verify, type X509Certificate } from 'node:crypto';
import { AppError } from '../../kernel/errors.ts';
import type { ChainCertificate } from '../chain/certificate.ts';
import { oneLineName } from '../chain/certificate.ts';
import { reject } from '../lib/rejection.ts';
import { parseCrl, type ParsedCrl, type ParsedCrlEntry } from '../x509/index.ts';

const DIGESTS: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
};

/** PEM or DER CRLs parsed (a CRL parsed already is taken as it is). */
export function loadCrls(inputs: readonly (string | Buffer | ParsedCrl)[]): ParsedCrl[] {
  return inputs.map((input, i) => {
    if (typeof input !== 'string' && !Buffer.isBuffer(input)) return input;
    try {
      return parseCrl(input);
    } catch {
      throw new AppError('CONFIG_INVALID', `第 ${i + 1} 个证书吊销列表无法解析 / CRL ${i + 1} cannot be parsed`);
    }
  });
}

/** The entry of a CRL signed by `issuer` that lists `cert`'s serial number, or null. */
export function listedIn(crls: readonly ParsedCrl[], cert: X509Certificate, issuer: X509Certificate): ParsedCrlEntry | null {
  const serial = cert.serialNumber.toUpperCase().replace(/^(00)+(?=.)/, '');
  for (const crl of crls) {
    const entry = crl.revoked.get(serial);
    if (entry && crlSignedBy(crl, issuer)) return entry;
  }
  return null;
}

/** True when the CRL's signature verifies with `issuer`'s key. */
export function crlSignedBy(crl: ParsedCrl, issuer: X509Certificate): boolean {
  const digest = DIGESTS[crl.signatureAlgorithm];
  return digest !== undefined && verify(digest, crl.tbs, issuer.publicKey, crl.signature);
}

/** CRLs signed by `issuer`'s key (the ones that speak for certificates it issued). */
function crlsOf(crls: readonly ParsedCrl[], issuer: X509Certificate): ParsedCrl[] {
  return crls.filter((crl) => crlSignedBy(crl, issuer));
}

/**
 * Revocation can only be ruled out with a current CRL: for each certificate of the
 * path but the anchor, when its issuer's CRLs are at hand at least one must be before its
 * nextUpdate (a stale CRL is no answer: LICENCE_STATUS_UNAVAILABLE), and with `required` a
 * certificate that names a CRL distribution point must have one. Run after checkNotRevoked, so
 * a certificate listed even in a stale CRL is still LICENCE_CERT_REVOKED.
 */
export function checkCrlsCurrent(path: readonly ChainCertificate[], crls: readonly ParsedCrl[], now: Date, required: boolean): void {
  for (let i = 0; i + 1 < path.length; i++) {
    const { cert, profile } = path[i]!;
    const mine = crlsOf(crls, path[i + 1]!.cert);
    const who = oneLineName(path[i + 1]!.cert.subject);
    if (mine.length > 0 && !mine.some((c) => c.nextUpdate !== null && c.nextUpdate > now)) {
      const latest = Math.max(...mine.map((c) => c.nextUpdate?.getTime() ?? 0));
      reject('LICENCE_STATUS_UNAVAILABLE', `${who} 的证书吊销列表已于 ${new Date(latest).toISOString()} 过期，无法排除证书被吊销，请联网刷新（--online）`
        + ` / the CRL of ${who} expired at ${new Date(latest).toISOString()}: revocation cannot be ruled out; refresh it (--online)`);
    }
    if (mine.length === 0 && required && profile.crlDistributionPoints.length > 0) {
      reject('LICENCE_STATUS_UNAVAILABLE', `没有 ${oneLineName(cert.subject)} 的证书吊销列表（${profile.crlDistributionPoints[0]}），无法排除证书被吊销，请联网获取（--online）`
        + ` / no CRL at hand for ${oneLineName(cert.subject)} (${profile.crlDistributionPoints[0]}): revocation cannot be ruled out; fetch it (--online)`);
    }
  }
}
