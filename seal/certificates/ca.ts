/**
 * A subordinate CA (e.g. a provincial seal CA under the national root): RSA 3072, signed by the
 * issuer, cA (critical) with an optional pathLenConstraint, keyCertSign + cRLSign (critical).
 * The region code (GB/T 2260) goes into stateOrProvinceName so the subject says which province.
 *
 * `issueCa` makes the key pair too; `certifyCaKey` certifies a key someone else holds (the public
 * key of a platform's PKCS #10 request, R-LI-3: a provincial or municipal platform's seal CA
 * under the national root), so that CA's private key never leaves its platform.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { AppError } from '../../kernel/errors.ts';
import { buildCertificate } from '../x509/index.ts';
import type { CertifiedKey } from './types.ts';
import { randomSerialHex } from './serial.ts';
import { validityWindow } from './validity.ts';

export interface CaCertificateOptions {
  commonName: string; organization?: string | undefined; regionCode?: string | undefined; now: Date; years?: number | undefined; pathLen?: number | undefined;
  /** CRL distribution point: where the issuer publishes the CRL that would list this CA. */
  crlUrl?: string | undefined;
}

/** Certify `publicKey` as a subordinate CA of `issuer`; returns the certificate PEM. */
export function certifyCaKey(issuer: CertifiedKey, o: CaCertificateOptions & { publicKey: KeyObject }): string {
  if (o.pathLen !== undefined && (!Number.isInteger(o.pathLen) || o.pathLen < 0)) {
    throw new AppError('BAD_INPUT', 'pathLen 须为非负整数 / pathLen must be a non-negative integer');
  }
  if (!o.commonName.trim()) throw new AppError('BAD_INPUT', 'CA 名称不能为空 / the CA needs a name');
  if (o.regionCode !== undefined && !/^\d{6}$/.test(o.regionCode)) throw new AppError('BAD_INPUT', '行政区划代码须为6位数字 / the region code must be 6 digits (GB/T 2260)');
  return buildCertificate({
    subject: { commonName: o.commonName, organization: o.organization, regionCode: o.regionCode },
    publicKey: o.publicKey,
    signingKey: issuer.privateKey,
    issuerCertPem: issuer.certPem,
    serialHex: randomSerialHex(),
    ...validityWindow(o.now, o.years ?? 10, issuer.certPem),
    basicConstraints: { cA: true, pathLen: o.pathLen },
    keyUsage: ['keyCertSign', 'cRLSign'],
    extKeyUsage: null,
    crlDistributionPoint: o.crlUrl,
  });
}

export function issueCa(issuer: CertifiedKey, o: CaCertificateOptions): CertifiedKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  return { certPem: certifyCaKey(issuer, { ...o, publicKey }), privateKey };
}
