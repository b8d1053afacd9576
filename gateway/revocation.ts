/**
 * Revoked access tokens stop working within seconds (revocation markers, kernel/revocation-markers.ts).
 * On every request with a token, cached or not, the gateway checks:
 *
 * 1. its grant (`yw_grant`): revoked by a logout, a revoked or reused refresh token, a replayed
 *    authorization code;
 * 2. its account (`sub`): disabled after the token was issued (`iat`).
 *
 * Either refuses with TOKEN_REVOKED (401, `invalid_token`). Markers are read through a small
 * local cache of GATEWAY_REVOCATION_CHECK_SECONDS (0 = every request): a revoke is seen that long
 * after it at most, and Redis sees one read per grant and per account per period per gateway
 * process (both read at once). When the cache cannot be read, requests with a token are refused
 * with SERVICE_UNAVAILABLE (never let through); anonymous requests never read it.
 */
import { AppError } from '../kernel/errors.ts';
import type { Cache } from '../kernel/cache.ts';
import { readAccountRevokedAt, readGrantRevoked } from '../kernel/revocation-markers.ts';
import type { Logger } from '../kernel/log.ts';
import { ExpiringLru } from './lru.ts';

/** What a token says about where it came from (gateway/tokens.ts). */
export interface RevocationTerms {
  /** `yw_grant`: the grant ref; tokens minted without one are checked by account only. */
  grant: string | undefined;
  /** `sub`: the account. */
  sub: string;
  /** `iat`, epoch ms. */
  issuedAt: number;
}

export interface RevocationGuard {
  /** Resolves when the token still holds; throws TOKEN_REVOKED or SERVICE_UNAVAILABLE. */
  check(terms: RevocationTerms, now: Date): Promise<void>;
}

const REVOKED = '此访问令牌已被撤销（已退出登录、授权已撤销或账户已停用），请重新登录 / this access token has been revoked (logged out, authorization revoked or account disabled): log in again';

export function createRevocationGuard(o: { cache: Cache; checkSeconds: number; log?: Logger; maxEntries?: number }): RevocationGuard {
  const grants = new ExpiringLru<boolean>(o.maxEntries ?? 10_000);
  const accounts = new ExpiringLru<{ at: number | undefined }>(o.maxEntries ?? 10_000);
  const ttlMs = o.checkSeconds * 1000;

  return {
    async check(terms, now) {
      const t = now.getTime();
      let grantRevoked: boolean;
      let account: { at: number | undefined };
      try {
        [grantRevoked, account] = await Promise.all([
          terms.grant ? grants.getOrLoad(terms.grant, t, ttlMs, () => readGrantRevoked(o.cache, terms.grant!)) : Promise.resolve(false),
          accounts.getOrLoad(terms.sub, t, ttlMs, async () => ({ at: await readAccountRevokedAt(o.cache, terms.sub) })),
        ]);
      } catch (e) {
        o.log?.error({ err: e instanceof Error ? e.message : String(e) }, 'revocation markers unreadable: requests with a token refused');
        throw new AppError('SERVICE_UNAVAILABLE', '令牌状态暂时无法核实，请稍后再试 / the token cannot be checked right now, try again later');
      }
      if (grantRevoked) throw new AppError('TOKEN_REVOKED', REVOKED, { reason: 'grant' });
      if (account.at !== undefined && terms.issuedAt <= account.at) throw new AppError('TOKEN_REVOKED', REVOKED, { reason: 'account' });
    },
  };
}
