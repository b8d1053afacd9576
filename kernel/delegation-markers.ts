/**
 * Delegation markers (R-ID-8): how the gateway learns within seconds that an acting-for access
 * token no longer holds, though the token itself (a self-contained JWT) stays valid for its ten
 * minutes. The IdP writes a marker in the same transaction as the revoke or change, before it
 * commits: there is no moment when the database says "revoked" and the marker is missing (a
 * marker left by a transaction that then failed only refuses tokens until it expires: the safe
 * side). The gateway reads markers through a short local cache (gateway/delegations.ts).
 *
 *   key    deleg:marker:<delegation id>     (under the cache prefix, REDIS_PREFIX)
 *   value  {"revoked":true}                 revoked, by itself or by an ancestor's cascade
 *          {"changedAt":<epoch ms>}         scope or period changed at that instant: tokens
 *                                           minted before (their yw_act.changedAt is older) are stale
 *   ttl    at least the longest access-token lifetime: after it no token naming the delegation
 *          is alive, and new tokens are only minted for delegations in force.
 *
 * Expiry needs no marker: the token carries the delegation's end (yw_act.validUntil).
 */
import type { Cache } from './cache.ts';

export type DelegationMarker = { revoked: true } | { changedAt: number };

export const delegationMarkerKey = (delegationId: string): string => `deleg:marker:${delegationId}`;

export async function writeDelegationMarkers(cache: Cache, markers: ReadonlyArray<readonly [delegationId: string, marker: DelegationMarker]>, ttlSeconds: number): Promise<void> {
  await Promise.all(markers.map(([id, m]) => cache.set(delegationMarkerKey(id), JSON.stringify(m), { ttlSeconds })));
}

export async function readDelegationMarker(cache: Cache, delegationId: string): Promise<DelegationMarker | undefined> {
  const raw = await cache.get(delegationMarkerKey(delegationId));
  if (raw === null) return undefined;
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    if (typeof v.changedAt === 'number' && v.revoked === undefined) return { changedAt: v.changedAt };
  } catch { /* unreadable: below */ }
  // Revoked, or unreadable (refusing is the safe side).
  return { revoked: true };
}
