/**
 * One verification for every door of the licence service (POST /verify JSON, the verify page,
 * the internal check): the seal library against this service's trust anchors (its own root and
 * LICENCE_TRUST_ANCHORS), its table of revoked certificates (with when and why: a seal revoked as
 * superseded spares licences timestamped before), the outside CA's CRLs imported into it
 * (./crl-import.ts: the latest of each CA; one past its nextUpdate is LICENCE_STATUS_UNAVAILABLE
 * for what that CA issued) and its status lists (./status.ts), answering
 * `{ valid, reason, message, licence }` with the holder's ID number masked (R-ID-11).
 *
 * What may come in: the compact JWS; a JSON file `{ "credential": "…" }`; or what a QR code
 * carries when the licence is too long for one — a reference `<licence id>.<sha256>` (or the
 * verify URL on LICENCE_PUBLIC_URL holding it), resolved here to the stored licence whose digest
 * must match. A reference counts only as the whole input (./qr.ts parseReference): mixed with
 * anything else it is not one, and the text is verified as submitted.
 */
import { X509Certificate } from 'node:crypto';
import type { Clock } from '../../kernel/clock.ts';
import type { Queryable } from '../../kernel/db.ts';
import { maskIdNumber } from '../../kernel/ids.ts';
import { createVerifyCache, verifyLicence, type ParsedCrl, type StatusListSource } from '../../seal/index.ts';
import { LICENCE_SCHEMA as S } from './migrations.ts';
import { licenceDigest, parseReference } from './qr.ts';
import type { TrustStore } from './trust.ts';
import type { ServiceStatusLists } from './status.ts';

export interface VerifyAnswer {
  valid: boolean;
  reason: string | null;
  message: string | null;
  licence: {
    identifier: string; typeCode: string; typeName: string; number: string; holderName: string; holderCodeMasked: string;
    issuerName: string; issuerCode: string; issueDate: string; jurisdiction: string; validFrom: string; validUntil: string | null; signedAt: string;
    timestamped: boolean;
  } | null;
}

export type Verify = (input: string) => Promise<VerifyAnswer>;

/** The JWS in a pasted or uploaded text: itself, or the `credential` of a JSON object. */
export function credentialText(input: string): string {
  const t = input.trim();
  if (!t.startsWith('{')) return t;
  try {
    const doc = JSON.parse(t) as { credential?: unknown };
    if (typeof doc.credential === 'string') return doc.credential.trim();
  } catch {
    // not JSON: the verifier will call it malformed
  }
  return t;
}

/** The subject of the CA that issued a JWS's signing certificate (x5c[1]), read from a JWS already verified; null without one. */
function issuingCa(jws: string): string | null {
  try {
    const header = JSON.parse(Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString()) as { x5c?: unknown };
    const der = Array.isArray(header.x5c) && typeof header.x5c[1] === 'string' ? Buffer.from(header.x5c[1], 'base64') : null;
    return der ? new X509Certificate(der).subject : null;
  } catch {
    return null;
  }
}

const outsideFederation = (why: string): VerifyAnswer => ({ valid: false, reason: 'LICENCE_OUTSIDE_FEDERATION', message: why, licence: null });

export function createVerify(o: {
  db: Queryable; anchorsPem: string[]; trust: TrustStore; clock: Clock; statusLists: ServiceStatusLists;
  /**
   * A platform of a federation (FEDERATION_TRUST_ANCHORS): a licence whose seal does not chain to
   * the trust anchors, or that names a status list outside every member's published base (or one
   * sealed under another CA than the licence), is LICENCE_OUTSIDE_FEDERATION (R-LI-3).
   */
  federated?: boolean | undefined;
  /** LICENCE_PUBLIC_URL: the verify URLs printed in QR codes are on it (and only those are references). */
  publicBase: string;
  /** The imported CRLs (./crl-import.ts CrlImports.current). */
  crls?: ((q: Queryable) => Promise<ParsedCrl[]>) | undefined;
}): Verify {
  const cache = createVerifyCache();
  return async (input) => {
    let jws = credentialText(input);
    const ref = parseReference(jws, o.publicBase);
    if (ref) {
      const { rows } = await o.db.query<{ credential: string }>(`select credential from ${S}.licences where id = $1`, [ref.licenceId]);
      const stored = rows[0]?.credential;
      if (!stored || licenceDigest(stored) !== ref.digest) {
        return { valid: false, reason: 'NOT_FOUND', message: '没有与该二维码相符的证照 / no licence matches this reference', licence: null };
      }
      jws = stored;
    }
    // What this verification's status lists were: outside the federation, or another platform's.
    const outside: string[] = [];
    const remote: string[] = [];
    const statusLists: StatusListSource = { get: (url) => o.statusLists.get(url, { outside: (u) => outside.push(u), remote: (_u, list) => remote.push(list) }) };
    const r = await verifyLicence(jws, {
      trustAnchorsPem: o.anchorsPem, now: o.clock.now(), cache, statusLists, crls: o.crls ? await o.crls(o.db) : undefined,
      isCertificateRevoked: (serial, issuer) => o.trust.isRevoked(serial, issuer),
    });
    if (o.federated && !r.valid && r.reason === 'LICENCE_UNKNOWN_ISSUER') {
      return outsideFederation('印章证书链不终止于国家根证书：不是联邦内平台签发的证照 / the seal does not chain to the national root: the licence was not issued by a platform of the federation');
    }
    if (o.federated && outside.length > 0) {
      return outsideFederation('签发平台不是联邦受信成员（状态列表不在任何成员公布的证照服务上）/ the issuing platform is not a trusted member of the federation (its status list is not at a licence service a member publishes)');
    }
    if (!r.valid) return { valid: false, reason: r.reason, message: r.message, licence: null };
    // Another platform's list must be sealed under the same CA as the licence: a member's list
    // vouches only for licences of its own platform, never for a seal another CA issued.
    const ca = issuingCa(jws);
    if (o.federated && remote.some((list) => issuingCa(list) !== ca)) {
      return outsideFederation('证照与其状态列表不是同一平台印章CA签发 / the licence and its status list are sealed under different platforms\' CAs');
    }
    const l = r.credential.credentialSubject.licence;
    return {
      valid: true, reason: null, message: null,
      licence: {
        identifier: l.identifier, typeCode: l.typeCode, typeName: l.typeName, number: l.number, holderName: l.holderName,
        holderCodeMasked: maskIdNumber(l.holderCode), issuerName: l.issuerName, issuerCode: l.issuerCode, issueDate: l.issueDate,
        jurisdiction: l.jurisdiction, validFrom: r.credential.validFrom, validUntil: r.credential.validUntil ?? null,
        signedAt: r.signedAt.toISOString(), timestamped: r.timestamped === true,
      },
    };
  };
}
