/**
 * Test helpers: an enterprise CA (a commercial CA that certifies companies, 企业CA) and the
 * enterprise certificates it issues, for the IdP's certificate route of company registration
 * (R-ID-4). Profile, as such certificates commonly are: RSA 2048 end entity, subject O = the
 * company name, organizationIdentifier (2.5.4.97) = its unified social credit code, keyUsage
 * digitalSignature + nonRepudiation, extKeyUsage id-kp-clientAuth. Each part can be overridden
 * to make a certificate a verifier must refuse.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createRootCa } from '../certificates/root.ts';
import { issueCa } from '../certificates/ca.ts';
import { randomSerialHex } from '../certificates/serial.ts';
import type { CertifiedKey } from '../certificates/types.ts';
import { OID_KP_CLIENT_AUTH } from '../lib/oids.ts';
import { buildCertificate, type CertificateSpec } from '../x509/index.ts';

export interface EnterpriseCa { root: CertifiedKey; ca: CertifiedKey }

/** A root and the issuing CA under it (pathLen 0), as an enterprise CA operator runs them. */
export function makeEnterpriseCa(now: Date, name = '示范企业数字证书认证中心'): EnterpriseCa {
  const root = createRootCa({ commonName: `${name}根证书`, organization: name, now });
  const ca = issueCa(root, { commonName: `${name}企业证书CA`, organization: name, now, pathLen: 0 });
  return { root, ca };
}

export function issueEnterpriseCertificate(
  issuer: CertifiedKey,
  o: { companyName: string; creditCode: string | undefined; now: Date; days?: number } & Partial<Pick<CertificateSpec, 'keyUsage' | 'extKeyUsage' | 'basicConstraints' | 'notBefore'>>,
): CertifiedKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const notBefore = o.notBefore ?? o.now;
  const certPem = buildCertificate({
    subject: { commonName: o.companyName, organization: o.companyName, organizationIdentifier: o.creditCode },
    publicKey,
    signingKey: issuer.privateKey,
    issuerCertPem: issuer.certPem,
    serialHex: randomSerialHex(),
    notBefore,
    notAfter: new Date(notBefore.getTime() + (o.days ?? 365) * 86_400_000),
    basicConstraints: o.basicConstraints === undefined ? { cA: false } : o.basicConstraints,
    keyUsage: o.keyUsage === undefined ? ['digitalSignature', 'nonRepudiation'] : o.keyUsage,
    extKeyUsage: o.extKeyUsage === undefined ? [OID_KP_CLIENT_AUTH] : o.extKeyUsage,
  });
  return { certPem, privateKey };
}
