/**
 * The facts about a certificate that callers store or show: serial and issuer exactly as the
 * revocation callback receives them, the organizationIdentifier (agency credit code) of a seal
 * certificate, the validity window and the SHA-256 fingerprint.
 */
import { AppError } from '../../kernel/errors.ts';
import { loadCertificate, oneLineName } from './certificate.ts';

export interface CertificateDescription {
  /** Upper-case hex, as passed to isCertificateRevoked. */
  serialHex: string;
  /** "C=CN, O=…, CN=…" */
  subject: string;
  /** Same form; as passed to isCertificateRevoked. */
  issuer: string;
  /** Agency credit code of a seal certificate (2.5.4.97), or null. */
  organizationIdentifier: string | null;
  /** The subject's organizationName (2.5.4.10): a seal certificate's agency name, or null. */
  organization: string | null;
  notBefore: Date;
  notAfter: Date;
  /** "AB:CD:…" SHA-256 of the DER. */
  fingerprint256: string;
  isCa: boolean;
}

export function describeCertificate(pem: string): CertificateDescription {
  let c;
  try {
    c = loadCertificate(pem);
  } catch {
    throw new AppError('BAD_INPUT', '不是可解析的证书 / not a parsable certificate');
  }
  return {
    serialHex: c.cert.serialNumber.toUpperCase(),
    subject: oneLineName(c.cert.subject),
    issuer: oneLineName(c.cert.issuer),
    organizationIdentifier: c.profile.organizationIdentifier,
    organization: c.profile.organization,
    notBefore: c.cert.validFromDate,
    notAfter: c.cert.validToDate,
    fingerprint256: c.cert.fingerprint256,
    isCa: c.profile.basicConstraints?.cA === true,
  };
}
