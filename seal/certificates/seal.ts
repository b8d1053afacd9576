/**
 * An agency's electronic seal certificate (电子印章证书, R-LI-1/R-LI-3): RSA 2048, subject
 * CN = seal name, O = agency name, organizationIdentifier (2.5.4.97) = the agency's unified
 * social credit code (GB 32100), so a verifier can tie the licence's issuer to the seal.
 * End entity: basicConstraints cA false (critical); keyUsage digitalSignature + nonRepudiation
 * (critical); extKeyUsage id-kp-documentSigning (RFC 9336), the only purpose it is good for.
 *
 * `issueSealCertificate` makes the key pair too; `certifySealKey` certifies a key someone else
 * holds (the public key of a PKCS #10 request, `yiwang seal issue-seal --csr`), so the seal's
 * private key never leaves the licence service's key store.
 *
 * RSA rather than SM2: Node cannot yet produce interoperable SM2 signatures (docs/standards.md).
 */
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { AppError } from '../../kernel/errors.ts';
import { isValidCreditCode } from '../../kernel/ids.ts';
import { ORGANIZATION_NAME, requireName } from '../../kernel/names.ts';
import { OID_KP_DOCUMENT_SIGNING } from '../lib/oids.ts';
import { buildCertificate } from '../x509/index.ts';
import type { CertifiedKey } from './types.ts';
import { randomSerialHex } from './serial.ts';
import { validityWindow } from './validity.ts';

export interface SealCertificateOptions {
  agencyName: string;
  agencyCode: string;
  sealName: string;
  now: Date;
  years?: number | undefined;
  /** CRL distribution point: where the issuing CA publishes its CRL. */
  crlUrl?: string | undefined;
  sealImage?: Buffer | undefined;
}

/** Certify `publicKey` as the agency's seal; returns the certificate PEM. */
export function certifySealKey(issuer: CertifiedKey, o: SealCertificateOptions & { publicKey: KeyObject }): string {
  if (!o.agencyName.trim() || !o.sealName.trim()) throw new AppError('BAD_INPUT', '机构名称和印章名称不能为空 / agency and seal names are required');
  // A seal is bound to one legal entity: refuse a code whose GB 32100 check character is wrong.
  if (!isValidCreditCode(o.agencyCode)) {
    throw new AppError('CREDIT_CODE_INVALID', '统一社会信用代码格式错误 / malformed unified social credit code', { agencyCode: o.agencyCode });
  }
  // The subject's names are what verifiers show for every licence the seal signs (kernel/names.ts).
  const agencyName = requireName(o.agencyName, ORGANIZATION_NAME, 'agencyName');
  const sealName = requireName(o.sealName, { min: 1, max: ORGANIZATION_NAME.max, label: ['印章名称', 'the seal name'] }, 'sealName');
  return buildCertificate({
    subject: { commonName: sealName, organization: agencyName, organizationIdentifier: o.agencyCode },
    publicKey: o.publicKey,
    signingKey: issuer.privateKey,
    issuerCertPem: issuer.certPem,
    serialHex: randomSerialHex(),
    ...validityWindow(o.now, o.years ?? 5, issuer.certPem),
    basicConstraints: { cA: false },
    keyUsage: ['digitalSignature', 'nonRepudiation'],
    extKeyUsage: [OID_KP_DOCUMENT_SIGNING],
    // Where the issuing CA publishes its CRL, so an offline verifier knows what to fetch.
    crlDistributionPoint: o.crlUrl,
    // The seal image's SHA-256, so the impression shown with a licence is the certified one.
    sealImageSha256: o.sealImage ? createHash('sha256').update(o.sealImage).digest() : undefined,
  });
}

export function issueSealCertificate(issuer: CertifiedKey, o: SealCertificateOptions): CertifiedKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { certPem: certifySealKey(issuer, { ...o, publicKey }), privateKey };
}
