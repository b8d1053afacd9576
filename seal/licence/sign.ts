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
 * - a seal certificate of another agency than the credential's issuer: its
 *   organizationIdentifier is not the issuer's code, or its organizationName not the issuer's
 *   name (issuer.name and licence.issuerName)                                (LICENCE_ISSUER_MISMATCH)
 * - a seal certificate not valid at the signing time                        (LICENCE_CERT_NOT_VALID_AT_SIGNING)
 *
 * With a timestamper (the platform TSA, ../timestamp/token.ts) the protected header also carries
 * `tst`, a timestamp token over the payload, so the signing time stays provable after the seal
 * certificate expires.
 */
import { AppError } from '../../kernel/errors.ts';
import { messageImprint, type Timestamper } from '../timestamp/token.ts';
import { issuerId, type LicenceCredential } from './credential.ts';
import { LICENCE_TYP } from './compact.ts';
import { loadSignerChain, signJws, type Signer } from './jws.ts';

export interface SignOptions {
  /** Adds the platform timestamp token (`tst` header). */
  timestamper?: Timestamper | undefined;
}

export async function signLicence(credential: LicenceCredential, seal: Signer, now: Date, o: SignOptions = {}): Promise<string> {
  const chain = loadSignerChain(seal);
  const leaf = chain[0]!;
  const code = leaf.profile.organizationIdentifier;
  if (!code || credential.issuer.id !== issuerId(code) || credential.credentialSubject.licence.issuerCode !== code) {
    throw new AppError('LICENCE_ISSUER_MISMATCH', '印章证书不属于发证机关 / the seal certificate belongs to another agency than the issuer');
  }
  const name = leaf.profile.organization;
  if (!name || credential.issuer.name !== name || credential.credentialSubject.licence.issuerName !== name) {
    throw new AppError('LICENCE_ISSUER_MISMATCH', `发证机关名称须为印章证书所属机构名称（${name ?? '无'}）/ the issuer's name must be the seal certificate's organization name (${name ?? 'none'})`);
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
  const payload = new TextEncoder().encode(JSON.stringify(claims));
  const header: Record<string, unknown> = { typ: LICENCE_TYP };
  if (o.timestamper) header.tst = await o.timestamper(messageImprint(Buffer.from(payload).toString('base64url')));
  return signJws(payload, seal, chain, header);
}
