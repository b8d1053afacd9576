/**
 * A certificate as the path checks see it: node:crypto's X509Certificate (names, validity,
 * public key, signature checks) together with the extension profile read in x509/.
 */
import { X509Certificate } from 'node:crypto';
import { inspectCertificate, type CertificateProfile } from '../x509/index.ts';

export interface ChainCertificate {
  cert: X509Certificate;
  profile: CertificateProfile;
}

/** Parse DER or PEM; throws (any Error) when it is not a certificate. */
export function loadCertificate(input: Buffer | string): ChainCertificate {
  const cert = new X509Certificate(input);
  return { cert, profile: inspectCertificate(cert.raw) };
}

/** One-line subject or issuer name, e.g. "C=CN, O=…, CN=…" (node prints one attribute a line). */
export const oneLineName = (name: string): string => name.split('\n').join(', ');
