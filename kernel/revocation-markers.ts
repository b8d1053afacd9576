/**
 * Revocation markers: how the gateway learns within seconds that an access token was revoked,
 * though the token (a self-contained JWT) stays valid for its ten minutes. The IdP writes a marker
 * when it revokes; the gateway reads markers through a short local cache (gateway/revocation.ts)
 * and refuses the token with TOKEN_REVOKED.
 *
 *   key    revoked:grant:<grant ref>      the grant was revoked (logout that revokes, a revoked or
 *   value  1                              reused refresh token, a replayed authorization code, an
 *                                         administrator): every access token issued under it ends
 *   key    revoked:account:<account id>   the account was disabled at that instant: tokens issued
 *   value  {"at":<epoch ms>}              at or before it end (tokens issued after a re-enable go on)
 *   ttl    at least the longest access-token lifetime (after it no token the marker could stop is
 *          alive), with a margin for clock skew.
 *
 * The grant ref is what access tokens carry in `yw_grant`: the SHA-256 of the IdP's grant id
 * (base64url), so the token never reveals the storage id of its grant.
 *
 * Why markers and not introspection per request: the graph must not call the IdP per request;
 * markers cost a cache read per grant and account every few seconds per gateway process, and
 * nothing is stored until something is revoked (bench/revocation.ts measures the check).
 */
import { createHash } from 'node:crypto';
import type { Cache } from './cache.ts';

export const grantRef = (grantId: string): string => createHash('sha256').update(grantId).digest('base64url');

export const revokedGrantKey = (ref: string): string => `revoked:grant:${ref}`;
export const revokedAccountKey = (accountId: string): string => `revoked:account:${accountId}`;

export async function markGrantRevoked(cache: Cache, grantId: string, ttlSeconds: number): Promise<void> {
  await cache.set(revokedGrantKey(grantRef(grantId)), '1', { ttlSeconds });
}

export async function markAccountRevoked(cache: Cache, accountId: string, atMs: number, ttlSeconds: number): Promise<void> {
  await cache.set(revokedAccountKey(accountId), JSON.stringify({ at: atMs }), { ttlSeconds });
}

export async function readGrantRevoked(cache: Cache, ref: string): Promise<boolean> {
  return (await cache.get(revokedGrantKey(ref))) !== null;
}

/**
 * The instant (epoch ms) the account's tokens were revoked at, if a marker is there. An unreadable
 * marker revokes every token (Infinity): refusing is the safe side.
 */
export async function readAccountRevokedAt(cache: Cache, accountId: string): Promise<number | undefined> {
  const raw = await cache.get(revokedAccountKey(accountId));
  if (raw === null) return undefined;
  try {
    const v = JSON.parse(raw) as { at?: unknown };
    if (typeof v.at === 'number' && Number.isFinite(v.at)) return v.at;
  } catch { /* below */ }
  return Number.POSITIVE_INFINITY;
}
