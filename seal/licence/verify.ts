/**
 * Verify a sealed licence, offline, against the verifier's own trust anchors (R-LI-4). Never
 * throws for a bad licence: the answer names the first failed check with its code. It does
 * throw for faults on the verifier's side (no or unparsable trust anchors: CONFIG_INVALID; a
 * revocation lookup that fails).
 *
 * The checks, cheapest first; nothing from the payload is believed before step 7:
 *  1. compact JWS shape, typ, alg                        LICENCE_MALFORMED / LICENCE_UNSIGNED
 *  2. payload shape (VC 2.0 + iss, jti, iat)            LICENCE_MALFORMED
 *  3. x5c present and parsable                          LICENCE_BROKEN_CHAIN
 *  4. role of each certificate (seal / CA, pathLen)     LICENCE_WRONG_KEY_USAGE
 *  5. each certificate issued by the next               LICENCE_BROKEN_CHAIN
 *  6. chain ends at a configured anchor                 LICENCE_UNKNOWN_ISSUER (+ anchor's role)
 *  7. JWS signature with the seal certificate's key     LICENCE_BAD_SIGNATURE
 *  8. every certificate valid at iat                    LICENCE_CERT_NOT_VALID_AT_SIGNING
 *  9. no certificate revoked                            LICENCE_CERT_REVOKED
 * 10. iss = issuer.id = urn:uscc:<seal's organizationIdentifier>   LICENCE_ISSUER_MISMATCH
 * 11. signed no later than now; validFrom ≤ now < validUntil (and exp)  LICENCE_NOT_YET_VALID / LICENCE_EXPIRED
 */
import { compactVerify } from 'jose';
import type { ErrorCode } from '../../kernel/errors.ts';
import { anchorPath } from '../chain/anchor.ts';
import { oneLineName } from '../chain/certificate.ts';
import { checkRole, checkRoles } from '../chain/constraints.ts';
import { checkLinks } from '../chain/links.ts';
import { checkNotRevoked, type RevocationCheck } from '../chain/revocation.ts';
import { checkValidAt } from '../chain/validity.ts';
import { readX5c } from '../chain/x5c.ts';
import { reject, Rejection } from '../lib/rejection.ts';
import { loadAnchors } from '../trust/bundle.ts';
import { readClaims } from './claims.ts';
import { LICENCE_ALGORITHMS, parseCompact } from './compact.ts';
import { issuerId, type LicenceCredential } from './credential.ts';

export type VerifyResult =
  | { valid: true; credential: LicenceCredential; holder: { name: string; code: string }; issuer: { name: string; code: string }; signedAt: Date; sealSubject: string }
  | { valid: false; reason: ErrorCode; message: string };

export interface VerifyOptions {
  /** PEM certificates trusted as chain ends (readTrustBundle splits a bundle file). */
  trustAnchorsPem: string[];
  /** Time the licence's validity is judged at; default the current time. */
  now?: Date;
  isCertificateRevoked?: RevocationCheck;
}

/** Tolerated clock difference between signer and verifier for "signed in the future". */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export async function verifyLicence(jws: string, o: VerifyOptions): Promise<VerifyResult> {
  const anchors = loadAnchors(o.trustAnchorsPem);
  const now = o.now ?? new Date();
  try {
    const text = typeof jws === 'string' ? jws.trim() : jws;
    const { header, payload } = parseCompact(text);
    readClaims(payload);

    const chain = readX5c(header.x5c);
    checkRoles(chain);
    checkLinks(chain);
    const path = anchorPath(chain, anchors);
    for (let i = chain.length; i < path.length; i++) checkRole(path[i]!, i);

    const leaf = path[0]!;
    let verifiedPayload: Uint8Array;
    try {
      ({ payload: verifiedPayload } = await compactVerify(text, leaf.cert.publicKey, { algorithms: [...LICENCE_ALGORITHMS] }));
    } catch {
      return reject('LICENCE_BAD_SIGNATURE', '签名无法用印章证书验证 / the signature does not verify with the seal certificate\'s key');
    }
    // From here on only the verified bytes are read.
    const claims = readClaims(JSON.parse(new TextDecoder().decode(verifiedPayload)));
    const signedAt = new Date(claims.iat * 1000);

    checkValidAt(path, signedAt);
    await checkNotRevoked(path, o.isCertificateRevoked);

    const sealCode = leaf.profile.organizationIdentifier;
    const { credential } = claims;
    if (claims.iss !== credential.issuer.id) reject('LICENCE_ISSUER_MISMATCH', 'iss 与 issuer.id 不符 / iss differs from issuer.id');
    if (!sealCode || credential.issuer.id !== issuerId(sealCode) || credential.credentialSubject.licence.issuerCode !== sealCode) {
      reject('LICENCE_ISSUER_MISMATCH', `发证机关与印章证书所属机构（${sealCode ?? '无'}）不符 / the issuer is not the agency of the seal certificate (${sealCode ?? 'none'})`);
    }

    if (signedAt.getTime() > now.getTime() + CLOCK_SKEW_MS) reject('LICENCE_NOT_YET_VALID', '签章时间晚于当前时间 / the licence was signed in the future');
    if (new Date(credential.validFrom) > now) reject('LICENCE_NOT_YET_VALID', `证照自 ${credential.validFrom} 起有效 / the licence is valid from ${credential.validFrom}`);
    if (credential.validUntil && new Date(credential.validUntil) <= now) reject('LICENCE_EXPIRED', `证照已于 ${credential.validUntil} 到期 / the licence expired at ${credential.validUntil}`);
    if (claims.exp !== undefined && claims.exp * 1000 <= now.getTime()) reject('LICENCE_EXPIRED', '签名已过期（exp）/ the signature has expired (exp)');

    const licence = credential.credentialSubject.licence;
    return {
      valid: true,
      credential,
      holder: { name: licence.holderName, code: licence.holderCode },
      issuer: { name: credential.issuer.name, code: sealCode },
      signedAt,
      sealSubject: oneLineName(leaf.cert.subject),
    };
  } catch (e) {
    if (e instanceof Rejection) return { valid: false, reason: e.reason, message: e.message };
    throw e;
  }
}
