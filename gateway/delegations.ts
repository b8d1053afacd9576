/**
 * Acting-for tokens stop working within seconds (R-ID-8). An access token whose `yw_act` says the
 * person acts for a company stays a valid JWT for its ten minutes; on every request the gateway
 * checks, besides the signature:
 *
 * 1. expiry: the delegation's end (`yw_act.validUntil`, the earliest end along its chain) has
 *    not passed (no lookup);
 * 2. revocation and change: the marker the IdP wrote in the shared cache when the delegation (or
 *    one above it, cascading) was revoked, or its scope or period changed after the token was
 *    minted (kernel/delegation-markers.ts).
 *
 * Either refuses the request with TOKEN_DELEGATION_ENDED (401, `invalid_token`): the client
 * gets a new token, acting for itself or under a delegation in force. Markers are read through a
 * small local cache of GATEWAY_DELEGATION_CHECK_SECONDS (0 = every request), so a revoke is seen
 * that long after it at most, and Redis sees one read per delegation per period per gateway
 * process. When the cache cannot be read, acting-for requests are refused with
 * SERVICE_UNAVAILABLE (never let through); requests that act for nobody never read it.
 *
 * Why markers and not introspection at the IdP: the tokens are self-contained so that the graph
 * does not call the IdP per request; markers cost nothing until something is revoked, live only
 * as long as the tokens they stop, and are written in the revoke's own transaction.
 */
import { AppError } from '../kernel/errors.ts';
import type { Cache } from '../kernel/cache.ts';
import { readDelegationMarker, type DelegationMarker } from '../kernel/delegation-markers.ts';
import type { Logger } from '../kernel/log.ts';
import { ExpiringLru } from './lru.ts';

/** What an acting-for token says about its delegation (gateway/claims.ts actingTermsOf). */
export interface ActingTerms {
  delegationId: string;
  /** Epoch ms: the token acts for nobody from then on. */
  validUntil: number;
  /** Epoch ms: when the delegation last changed before the token was minted. */
  changedAt: number;
}

export interface DelegationGuard {
  /** Resolves when the delegation still holds for this token; throws TOKEN_DELEGATION_ENDED or SERVICE_UNAVAILABLE. */
  check(terms: ActingTerms, now: Date): Promise<void>;
}

const ENDED = '此令牌代表法人办事所依据的授权已撤销、变更或到期，请重新获取令牌 / the delegation this token acts under has been revoked, changed or has expired: get a new token';

export function createDelegationGuard(o: { cache: Cache; checkSeconds: number; log?: Logger; maxEntries?: number }): DelegationGuard {
  const seen = new ExpiringLru<{ marker: DelegationMarker | undefined }>(o.maxEntries ?? 10_000);
  const ttlMs = o.checkSeconds * 1000;

  async function markerOf(id: string, now: number): Promise<DelegationMarker | undefined> {
    try {
      return (await seen.getOrLoad(id, now, ttlMs, async () => ({ marker: await readDelegationMarker(o.cache, id) }))).marker;
    } catch (e) {
      o.log?.error({ err: e instanceof Error ? e.message : String(e) }, 'delegation markers unreadable: acting-for requests refused');
      throw new AppError('SERVICE_UNAVAILABLE', '授权状态暂时无法核实，请稍后再试 / the delegation cannot be checked right now, try again later');
    }
  }

  return {
    async check(terms, now) {
      const t = now.getTime();
      if (t >= terms.validUntil) throw new AppError('TOKEN_DELEGATION_ENDED', ENDED, { reason: 'expired' });
      const marker = await markerOf(terms.delegationId, t);
      if (!marker) return;
      if ('revoked' in marker) throw new AppError('TOKEN_DELEGATION_ENDED', ENDED, { reason: 'revoked' });
      if (terms.changedAt < marker.changedAt) throw new AppError('TOKEN_DELEGATION_ENDED', ENDED, { reason: 'changed' });
    },
  };
}
