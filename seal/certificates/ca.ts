/**
 * A subordinate CA (e.g. a provincial seal CA under the national root): RSA 3072, signed by the
 * issuer, cA (critical) with an optional pathLenConstraint, keyCertSign + cRLSign (critical).
 * The region code (GB/T 2260) goes into stateOrProvinceName so the subject says which province.
 */
import { generateKeyPairSync } from 'node:crypto';
import { AppError } from '../../kernel/errors.ts';
import { buildCertificate } from '../x509/index.ts';
import type { CertifiedKey } from './types.ts';
import { randomSerialHex } from './serial.ts';
import { validityWindow } from './validity.ts';

export function issueCa(
  issuer: CertifiedKey,
  o: {
    commonName: string; organization?: string; regionCode?: string; now: Date; years?: number; pathLen?: number;
    /** CRL distribution point: where the issuer publishes the CRL that would list this CA. */
    crlUrl?: string | undefined;
  },
): CertifiedKey {
  if (o.pathLen !== undefined && (!Number.isInteger(o.pathLen) || o.pathLen < 0)) {
    throw new AppError('BAD_INPUT', 'pathLen 须为非负整数 / pathLen must be a non-negative integer');
  }
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const certPem = buildCertificate({
    subject: { commonName: o.commonName, organization: o.organization, regionCode: o.regionCode },
    publicKey,
    signingKey: issuer.privateKey,
    issuerCertPem: issuer.certPem,
    serialHex: randomSerialHex(),
    ...validityWindow(o.now, o.years ?? 10, issuer.certPem),
    basicConstraints: { cA: true, pathLen: o.pathLen },
    keyUsage: ['keyCertSign', 'cRLSign'],
    extKeyUsage: null,
    crlDistributionPoint: o.crlUrl,
  });
  return { certPem, privateKey };
}
