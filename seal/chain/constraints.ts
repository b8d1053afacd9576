/**
 * What each certificate of the path may do, checked by us rather than by node-forge's
 * verifyCertificateChain (CVE-2026-33896 was a basicConstraints bypass there). Every failure
 * is LICENCE_WRONG_KEY_USAGE. Index 0 is the seal certificate, higher indexes are its CAs.
 *
 * Seal certificate (RFC 9336, RFC 5280 §4.2.1.3/§4.2.1.9/§4.2.1.12):
 * - not a CA (basicConstraints cA absent or false)
 * - keyUsage present with digitalSignature or nonRepudiation
 * - extKeyUsage present with id-kp-documentSigning
 * CA certificates (RFC 5280 §6.1.4 (k), (l), (m), (n)):
 * - basicConstraints present with cA true
 * - keyUsage present with keyCertSign
 * - pathLenConstraint ≥ the number of CA certificates below it (self-issued ones counted too,
 *   stricter than §6.1.4 (l), harmless for a three-level hierarchy)
 * Every certificate: no critical extension outside UNDERSTOOD_EXTENSIONS (RFC 5280 §4.2).
 */
import { OID_KP_DOCUMENT_SIGNING, UNDERSTOOD_EXTENSIONS } from '../lib/oids.ts';
import { reject } from '../lib/rejection.ts';
import type { ChainCertificate } from './certificate.ts';

function label(index: number): string {
  return index === 0 ? '印章证书 / the seal certificate' : `第 ${index} 级 CA 证书 / CA certificate ${index}`;
}

/**
 * `leafPurpose` is the extended key usage the end certificate must carry: document signing for
 * seals (licences, status lists), time stamping (RFC 3161 §2.3) for the platform TSA.
 */
export function checkRole(c: ChainCertificate, index: number, leafPurpose: string = OID_KP_DOCUMENT_SIGNING): void {
  const p = c.profile;
  const unknown = p.criticalExtensions.filter((oid) => !UNDERSTOOD_EXTENSIONS.has(oid));
  if (unknown.length) reject('LICENCE_WRONG_KEY_USAGE', `${label(index)}: 含未识别的关键扩展 / unrecognised critical extension ${unknown.join(', ')}`);

  if (index === 0) {
    if (p.basicConstraints?.cA) reject('LICENCE_WRONG_KEY_USAGE', `${label(0)}: 是 CA 证书，不能签署证照 / is a CA certificate and may not sign licences`);
    if (!p.keyUsage || !(p.keyUsage.has('digitalSignature') || p.keyUsage.has('nonRepudiation'))) {
      reject('LICENCE_WRONG_KEY_USAGE', `${label(0)}: 密钥用途不含数字签名 / keyUsage lacks digitalSignature and nonRepudiation`);
    }
    if (!p.extKeyUsage?.includes(leafPurpose)) {
      reject('LICENCE_WRONG_KEY_USAGE', `${label(0)}: 扩展密钥用途不含 ${leafPurpose} / extKeyUsage lacks ${leafPurpose}`);
    }
    return;
  }

  if (!p.basicConstraints?.cA) reject('LICENCE_WRONG_KEY_USAGE', `${label(index)}: 不是 CA（basicConstraints cA）/ is not a CA (basicConstraints cA)`);
  if (!p.keyUsage?.has('keyCertSign')) reject('LICENCE_WRONG_KEY_USAGE', `${label(index)}: 密钥用途不含证书签发 / keyUsage lacks keyCertSign`);
  const below = index - 1;
  const pathLen = p.basicConstraints.pathLen;
  if (pathLen !== null && below > pathLen) {
    reject('LICENCE_WRONG_KEY_USAGE', `${label(index)}: 路径长度约束 ${pathLen} 被突破（其下有 ${below} 级 CA）/ pathLenConstraint ${pathLen} exceeded by ${below} CA(s) below it`);
  }
}

/** Check chain[i] in the role its position gives it, for i from `from` on. */
export function checkRoles(chain: readonly ChainCertificate[], from = 0, leafPurpose: string = OID_KP_DOCUMENT_SIGNING): void {
  for (let i = from; i < chain.length; i++) checkRole(chain[i]!, i, leafPurpose);
}
