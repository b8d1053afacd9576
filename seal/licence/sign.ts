/**
 * Seal a licence: a compact JWS over the credential (VC 2.0 secured with JOSE, `typ: vc+jwt`),
 * signed by node:crypto through jose with the agency's seal key. The header carries the chain
 * in x5c (RFC 7515 §4.1.6) so anyone holding the national root can verify it offline (R-LI-4).
 *
 * Claims: the credential itself plus iss (= issuer.id, docs/standards.md), jti (= id) and iat
 * (the signing time: certificates are judged at this time by the verifier).
 *
 * Refused before signing (so a bad licence is never produced):
 * - a key that does not belong to the first certificate of the chain        (BAD_INPUT)
 * - a seal certificate of another agency than the credential's issuer       (LICENCE_ISSUER_MISMATCH)
 * - a seal certificate not valid at the signing time                        (LICENCE_CERT_NOT_VALID_AT_SIGNING)
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import { AppError } from '../../kernel/errors.ts';
import { loadCertificate, type ChainCertificate } from '../chain/certificate.ts';
import { issuerId, type LicenceCredential } from './credential.ts';
import { LICENCE_TYP, type LicenceAlgorithm } from './compact.ts';

function algorithmFor(key: KeyObject): LicenceAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new AppError('BAD_INPUT', '印章密钥须为 RSA 或 P-256 / the seal key must be RSA or P-256');
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

export async function signLicence(
  credential: LicenceCredential,
  seal: { privateKey: KeyObject; chainPem: string[] },
  now: Date,
): Promise<string> {
  if (seal.privateKey.type !== 'private') throw new AppError('BAD_INPUT', '需要印章私钥 / the seal private key is required');
  if (!seal.chainPem.length) throw new AppError('BAD_INPUT', '需要印章证书链 / the seal certificate chain is required');
  let chain: ChainCertificate[];
  try {
    chain = seal.chainPem.map((pem) => loadCertificate(pem));
  } catch {
    throw new AppError('BAD_INPUT', '印章证书链无法解析 / the seal certificate chain cannot be parsed');
  }
  const leaf = chain[0]!;
  if (!spki(createPublicKey(seal.privateKey)).equals(spki(leaf.cert.publicKey))) {
    throw new AppError('BAD_INPUT', '私钥与印章证书不匹配 / the private key does not belong to the seal certificate');
  }
  const code = leaf.profile.organizationIdentifier;
  if (!code || credential.issuer.id !== issuerId(code) || credential.credentialSubject.licence.issuerCode !== code) {
    throw new AppError('LICENCE_ISSUER_MISMATCH', '印章证书不属于发证机关 / the seal certificate belongs to another agency than the issuer');
  }
  if (now < leaf.cert.validFromDate || now > leaf.cert.validToDate) {
    throw new AppError('LICENCE_CERT_NOT_VALID_AT_SIGNING', '印章证书不在有效期内 / the seal certificate is not valid now');
  }
  const claims = {
    ...credential,
    iss: credential.issuer.id,
    jti: credential.id,
    iat: Math.floor(now.getTime() / 1000),
  };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({
      alg: algorithmFor(seal.privateKey),
      typ: LICENCE_TYP,
      x5c: chain.map((c) => c.cert.raw.toString('base64')),
    })
    .sign(seal.privateKey);
}
