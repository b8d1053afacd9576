/**
 * Revocation of certificates, asked of the caller (a CRL, an OCSP client, or the licence
 * service's own table of revoked seals). Every certificate of the path but the anchor is asked
 * about: an anchor is withdrawn by taking it out of the trust bundle. The lookup key is the
 * serial number in upper-case hex and the issuer name in node's form — the same strings
 * describeCertificate() gives — so the service can store them when it revokes a seal.
 * A lookup that throws is a fault, not a verdict: the error goes to the caller.
 */
import { reject } from '../lib/rejection.ts';
import { oneLineName, type ChainCertificate } from './certificate.ts';

export type RevocationCheck = (serialHex: string, issuerDn: string) => boolean | Promise<boolean>;

export async function checkNotRevoked(path: readonly ChainCertificate[], isRevoked: RevocationCheck | undefined): Promise<void> {
  if (!isRevoked) return;
  for (const { cert } of path.slice(0, -1)) {
    if (await isRevoked(cert.serialNumber.toUpperCase(), oneLineName(cert.issuer))) {
      reject('LICENCE_CERT_REVOKED', `证书已被吊销：${oneLineName(cert.subject)}（序列号 ${cert.serialNumber}）/ certificate revoked (serial ${cert.serialNumber})`);
    }
  }
}
