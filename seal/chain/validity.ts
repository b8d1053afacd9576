/**
 * Every certificate of the path must have been valid when the licence was sealed (the signing
 * time iat, read only after the signature verified). A licence sealed while its certificate
 * was valid stays valid after the certificate expires: the chain model of long-term signature
 * validation (docs/standards.md: validity "at the time that matters"). LICENCE_CERT_NOT_VALID_AT_SIGNING.
 */
import { reject } from '../lib/rejection.ts';
import { oneLineName, type ChainCertificate } from './certificate.ts';

export function checkValidAt(path: readonly ChainCertificate[], at: Date): void {
  for (const { cert } of path) {
    if (at < cert.validFromDate || at > cert.validToDate) {
      reject(
        'LICENCE_CERT_NOT_VALID_AT_SIGNING',
        `签章时 ${at.toISOString()} 证书不在有效期内（${cert.validFromDate.toISOString()} 至 ${cert.validToDate.toISOString()}）: ${oneLineName(cert.subject)} / `
          + `certificate not valid at signing time ${at.toISOString()} (valid ${cert.validFromDate.toISOString()} to ${cert.validToDate.toISOString()})`,
      );
    }
  }
}
