/**
 * Revocation of certificates, from two sources: CRLs the CAs publish (`yiwang seal revoke`,
 * RFC 5280 §5) and a callback of the caller's (an OCSP client, or the licence service's own
 * table of revoked seals). Every certificate of the path but the anchor is asked about: an
 * anchor is withdrawn by taking it out of the trust bundle. The callback's key is the serial
 * number in upper-case hex and the issuer name in node's form — the same strings
 * describeCertificate() gives — so the service can store them when it revokes a seal.
 * A lookup that throws is a fault, not a verdict: the error goes to the caller.
 */
import { reject } from '../lib/rejection.ts';
import { listedIn } from '../trust/crl.ts';
import type { ParsedCrl } from '../x509/index.ts';
import { oneLineName, type ChainCertificate } from './certificate.ts';

export type RevocationCheck = (serialHex: string, issuerDn: string) => boolean | Promise<boolean>;

export async function checkNotRevoked(
  path: readonly ChainCertificate[], isRevoked: RevocationCheck | undefined, crls: readonly ParsedCrl[] = [],
): Promise<void> {
  if (!isRevoked && crls.length === 0) return;
  for (let i = 0; i + 1 < path.length; i++) {
    const { cert } = path[i]!;
    const revoked = listedIn(crls, cert, path[i + 1]!.cert)
      || (isRevoked ? await isRevoked(cert.serialNumber.toUpperCase(), oneLineName(cert.issuer)) : false);
    if (revoked) {
      reject('LICENCE_CERT_REVOKED', `证书已被吊销：${oneLineName(cert.subject)}（序列号 ${cert.serialNumber}）/ certificate revoked (serial ${cert.serialNumber})`);
    }
  }
}
