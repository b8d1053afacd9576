/**
 * This IdP as a trusted real-name platform for another one (R-ID-3 seen from the other side: a
 * platform of another tier or province registers people by taking the identity we verified).
 *
 * - The full resident ID number and the verified attributes are released only under the scope
 *   `yw_realname`, only to a partner client an administrator registered as a trusted real-name
 *   platform (`realname_platform: true`, idp/partners/clients.ts). Every other partner keeps
 *   the masked ID number of `yw_identity` (R-ID-11); the client's allowed scopes stop it asking,
 *   and `verifiedClaims` is asked again for the client at release time.
 * - Format: OpenID Connect for Identity Assurance 1.0 `verified_claims`:
 *     { verification: { trust_framework: "cn_realname", assurance_level: "urn:yiwang:loa:3",
 *                       time: <when the identity was verified here> },
 *       claims: { name, yw_id_number, phone_number? } }
 *   Only a person proven at L3 or higher is vouched for (a self-declared account gets no
 *   `verified_claims` at all); the mobile only when its factor was verified.
 */
import type { AccountRecord } from '../accounts/store.ts';
import { acrOf } from '../accounts/assurance.ts';
import { phoneVerified } from './claims.ts';

export const REALNAME_SCOPE = 'yw_realname';
/** OIDC IDA trust framework naming Chinese real-name verification against the population registry. */
export const TRUST_FRAMEWORK = 'cn_realname';
/** Claim carrying the full resident ID number inside `verified_claims.claims`. */
export const ID_NUMBER_CLAIM = 'yw_id_number';

/** True for a client registered as a trusted real-name platform (oidc-provider camel-cases extra metadata on its Client). */
export function isRealnamePlatform(client: unknown): boolean {
  const c = (client ?? {}) as { yw_realname_platform?: unknown; ywRealnamePlatform?: unknown };
  return c.ywRealnamePlatform === true || c.yw_realname_platform === true;
}

/** The verified identity of `a` for a trusted real-name platform, or undefined when we vouch for nothing. */
export function verifiedClaims(a: AccountRecord): Record<string, unknown> | undefined {
  if (a.kind !== 'person' || !a.idNumber || a.disabled || a.status !== 'active' || a.assuranceLevel < 3) return undefined;
  const times = a.factors.filter((f) => f.verified).map((f) => f.at).filter((t) => !Number.isNaN(Date.parse(t))).sort();
  return {
    verification: { trust_framework: TRUST_FRAMEWORK, assurance_level: acrOf(a.assuranceLevel), ...(times[0] ? { time: new Date(times[0]).toISOString() } : {}) },
    claims: { name: a.name, [ID_NUMBER_CLAIM]: a.idNumber, ...(a.mobile && phoneVerified(a) ? { phone_number: a.mobile } : {}) },
  };
}
