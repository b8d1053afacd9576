/**
 * What a trusted real-name platform vouched for (R-ID-3), read from its UserInfo answer. Rules:
 *
 * - Only `verified_claims` (OpenID Connect for Identity Assurance 1.0) count, and only under the
 *   trust framework configured for the platform; the same claims given plainly (unverified) are
 *   ignored. An array of verified_claims is searched for that framework.
 * - Name and resident ID number (GB 11643 check digit) must be among them, else
 *   UPSTREAM_ATTRIBUTE_UNVERIFIED naming what is missing; the mobile is taken only when the
 *   platform is trusted for it (`attributes`) and vouched for it.
 * - The identity's level is the one the platform states (`assurance_level` on our
 *   urn:yiwang:loa scale), never above the level it is trusted for (a recognised identity keeps
 *   the level it was proven at, R-ID-12); below L3 it is not a real-name identity and is refused.
 * - The login's own level is the ID token's `acr` on the same scale (L3 when another scale or
 *   none), never above the platform's trusted level.
 * - When it was verified: `verification.time` when it is a time not in the future, else now.
 */
import { AppError } from '../../kernel/errors.ts';
import { isValidIdNumber, isValidMobile, normaliseIdNumber } from '../../kernel/ids.ts';
import { isValidName, normaliseName } from '../../kernel/names.ts';
import { levelOf, type Level } from '../accounts/assurance.ts';
import type { Upstream } from './upstreams.ts';

export interface UpstreamIdentity {
  /** The platform's configured id. */
  upstream: string;
  issuer: string;
  /** The platform's subject identifier for this person (pairwise or not: its business). */
  subject: string;
  name: string;
  idNumber: string;
  mobile: string | null;
  /** ISO time the platform verified the identity (or when we received it). */
  verifiedAt: string;
  level: Level;
  loginLevel: Level;
}

const SKEW_MS = 5 * 60 * 1000;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function framework(vc: unknown): string | undefined {
  return isObject(vc) && isObject(vc.verification) && typeof vc.verification.trust_framework === 'string' ? vc.verification.trust_framework : undefined;
}

export function readIdentity(u: Upstream, o: { issuer: string; subject: string; acr: unknown; userinfo: Record<string, unknown>; now: Date }): UpstreamIdentity {
  const all = Array.isArray(o.userinfo.verified_claims) ? o.userinfo.verified_claims : [o.userinfo.verified_claims];
  const vc = all.find((v) => framework(v) === u.trustFramework);
  const verification = isObject(vc) && isObject(vc.verification) ? vc.verification : {};
  const claims = isObject(vc) && isObject(vc.claims) ? vc.claims : {};

  const name = normaliseName(typeof claims.name === 'string' ? claims.name : '');
  const idNumber = typeof claims[u.idNumberClaim] === 'string' ? normaliseIdNumber(claims[u.idNumberClaim] as string) : '';
  const missing = [...(isValidName(name) ? [] : ['name']), ...(isValidIdNumber(idNumber) ? [] : ['idNumber'])];
  if (missing.length) {
    throw new AppError('UPSTREAM_ATTRIBUTE_UNVERIFIED', '该平台未提供经核验的姓名和身份证号码，不能据此注册 / the platform did not vouch for a verified name and resident ID number', {
      upstream: u.id, missing, ...(vc ? {} : { trustFramework: u.trustFramework }),
    });
  }
  const stated = levelOf(verification.assurance_level);
  const level = Math.min(stated ?? u.level, u.level) as Level;
  if (level < 3) {
    throw new AppError('UPSTREAM_ATTRIBUTE_UNVERIFIED', '该平台账户未经实名核验（须三级及以上） / the platform account is not real-name verified (level 3 or higher is needed)', {
      upstream: u.id, missing: ['level'], level,
    });
  }
  const phone = typeof claims.phone_number === 'string' ? claims.phone_number.replace(/^\+86/, '') : '';
  const mobile = u.attributes.includes('mobile') && isValidMobile(phone) ? phone : null;
  const time = typeof verification.time === 'string' ? Date.parse(verification.time) : Number.NaN;
  const verifiedAt = Number.isNaN(time) || time > o.now.getTime() + SKEW_MS ? o.now : new Date(time);
  return {
    upstream: u.id, issuer: o.issuer, subject: o.subject, name, idNumber, mobile,
    verifiedAt: verifiedAt.toISOString(), level,
    loginLevel: Math.min(levelOf(o.acr) ?? 3, u.level) as Level,
  };
}
