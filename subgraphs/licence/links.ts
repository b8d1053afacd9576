/**
 * Links to a licence's page (R-LI-4 "holders show their licences at any
 * time"): a signed, expiring token in the URL, so neither the holder's page nor a share link
 * needs a login on the licence service. HS256 under the platform's internal key, with its own
 * `typ` and audience so no other platform token can pass for one.
 *
 * - view: what `Licence.viewUrl` gives the holder, 15 minutes.
 * - share: what `shareLicence` makes for a verifier, 5 minutes to 7 days as the holder chooses.
 *
 * A share link cannot be withdrawn before it expires (no state is kept); the holder picks the
 * shortest time that serves, and the page always shows the licence's live status.
 */
import type { KeyObject } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { AppError } from '../../kernel/errors.ts';

export type LinkPurpose = 'view' | 'share';
const TYP = 'yiwang-licence-link+jwt';
const AUDIENCE = 'urn:yiwang:licence:link';
export const VIEW_MINUTES = 15;
export const SHARE_MINUTES = { min: 5, max: 7 * 24 * 60, default: 24 * 60 } as const;

export async function signLink(key: KeyObject, o: { licenceId: string; purpose: LinkPurpose; minutes: number; now: Date }): Promise<{ token: string; expiresAt: Date }> {
  const iat = Math.floor(o.now.getTime() / 1000);
  const exp = iat + o.minutes * 60;
  const token = await new SignJWT({ purpose: o.purpose }).setProtectedHeader({ alg: 'HS256', typ: TYP })
    .setSubject(o.licenceId).setAudience(AUDIENCE).setIssuedAt(iat).setExpirationTime(exp).sign(key);
  return { token, expiresAt: new Date(exp * 1000) };
}

export async function readLink(key: KeyObject, token: string, now: Date): Promise<{ licenceId: string; purpose: LinkPurpose; expiresAt: Date }> {
  try {
    const { payload } = await jwtVerify(token, key, { audience: AUDIENCE, algorithms: ['HS256'], typ: TYP, currentDate: now });
    if (typeof payload.sub !== 'string' || (payload.purpose !== 'view' && payload.purpose !== 'share') || typeof payload.exp !== 'number') throw new Error('claims');
    return { licenceId: payload.sub, purpose: payload.purpose, expiresAt: new Date(payload.exp * 1000) };
  } catch {
    throw new AppError('SHARE_LINK_INVALID', '链接无效或已过期 / the link is invalid or has expired');
  }
}

export const linkUrl = (base: string, token: string): string => `${base.replace(/\/$/, '')}/licences/view/${token}`;
