/**
 * The platform timestamp authority's certificate (R-LI-1): RSA 2048 under the national
 * root or a provincial CA, end entity, keyUsage digitalSignature + nonRepudiation, and
 * extKeyUsage id-kp-timeStamping alone and critical (RFC 3161 §2.3), so it can sign timestamp
 * tokens and nothing else — a seal certificate can never pass for it, nor it for a seal.
 * `certifyTsaKey` certifies the key of a PKCS #10 request (`yiwang seal issue-tsa --csr`).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { AppError } from '../../kernel/errors.ts';
import { OID_KP_TIME_STAMPING } from '../lib/oids.ts';
import { buildCertificate } from '../x509/index.ts';
import type { CertifiedKey } from './types.ts';
import { randomSerialHex } from './serial.ts';
import { validityWindow } from './validity.ts';

export interface TsaCertificateOptions {
  commonName: string;
  organization?: string | undefined;
  now: Date;
  years?: number | undefined;
  /** CRL distribution point: where the issuing CA publishes its CRL. */
  crlUrl?: string | undefined;
}

export function certifyTsaKey(issuer: CertifiedKey, o: TsaCertificateOptions & { publicKey: KeyObject }): string {
  if (!o.commonName.trim()) throw new AppError('BAD_INPUT', '时间戳服务名称不能为空 / the TSA name is required');
  return buildCertificate({
    subject: { commonName: o.commonName, organization: o.organization },
    publicKey: o.publicKey,
    signingKey: issuer.privateKey,
    issuerCertPem: issuer.certPem,
    serialHex: randomSerialHex(),
    ...validityWindow(o.now, o.years ?? 10, issuer.certPem),
    basicConstraints: { cA: false },
    keyUsage: ['digitalSignature', 'nonRepudiation'],
    extKeyUsage: [OID_KP_TIME_STAMPING],
    extKeyUsageCritical: true,
    crlDistributionPoint: o.crlUrl,
  });
}

export function issueTsaCertificate(issuer: CertifiedKey, o: TsaCertificateOptions): CertifiedKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { certPem: certifyTsaKey(issuer, { ...o, publicKey }), privateKey };
}
