/**
 * Rate limits at the gateway: per client address, per account and per client application, shared
 * by every gateway process through the cache (Redis), answered with 429 GRAPH_RATE_LIMITED and
 * `Retry-After`.
 *
 * - Fixed windows of GATEWAY_RATE_LIMIT_WINDOW_SECONDS aligned on the epoch: one counter per scope,
 *   subject and window (`rl:<scope>:<sha256(subject)>:<window index>`), incremented and given its
 *   expiry in one atomic step (MULTI INCR EXPIRE), so concurrent requests at any number of
 *   gateway processes never pass more than the limit, and no counter outlives its window by more
 *   than one window. `Retry-After` is the time left in the window.
 * - The address is counted before the token is verified (a flood of bad tokens is limited too);
 *   the account (`sub`) and the client (`client_id`) once the token is known. Anonymous requests
 *   count against their address only. A limit of 0 switches that scope off.
 * - When the cache cannot be reached the request is let through and the failure counted and
 *   logged: a limiter outage must not become a graph outage (the token checks behind it fail
 *   closed on their own).
 * - `rateLimitCounts()` gives totals since start for the metrics endpoint: requests refused per
 *   scope, and cache failures.
 */
import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Cache } from '../kernel/cache.ts';
import type { Clock } from '../kernel/clock.ts';
import { AppError } from '../kernel/errors.ts';
import type { Logger } from '../kernel/log.ts';
import { graphqlErrorBody, type AuthState } from './auth.ts';

export type RateScope = 'ip' | 'account' | 'client';

export interface RateLimits {
  windowSeconds: number;
  /** Requests per window; 0 = unlimited. */
  perIp: number;
  perAccount: number;
  perClient: number;
}

export interface RateLimitCounts {
  refused: Record<RateScope, number>;
  /** Cache failures (requests let through unlimited). */
  errors: number;
}

const totals: RateLimitCounts = { refused: { ip: 0, account: 0, client: 0 }, errors: 0 };

/** Totals since the process started, over every gateway in it (for GET /metrics). */
export function rateLimitCounts(): RateLimitCounts {
  return { refused: { ...totals.refused }, errors: totals.errors };
}

export const rateLimitKey = (scope: RateScope, subject: string, window: number): string =>
  `rl:${scope}:${createHash('sha256').update(subject).digest('base64url').slice(0, 22)}:${window}`;

const MESSAGES: Record<RateScope, string> = {
  ip: '来自此地址的请求过多，请稍后再试 / too many requests from this address, try again later',
  account: '此账户的请求过多，请稍后再试 / too many requests for this account, try again later',
  client: '此应用的请求过多，请稍后再试 / too many requests from this application, try again later',
};

export interface RateLimiter {
  /** Counted before the token is checked: the client address. */
  byAddress: Middleware;
  /** Counted after it: the account and the client application of the token (ctx.state.auth). */
  byPrincipal: Middleware;
  counts(): RateLimitCounts;
}

export function createRateLimiter(o: { cache: Cache; clock: Clock; limits: RateLimits; log?: Logger }): RateLimiter {
  const own: RateLimitCounts = { refused: { ip: 0, account: 0, client: 0 }, errors: 0 };
  const windowMs = o.limits.windowSeconds * 1000;
  const limitOf: Record<RateScope, number> = { ip: o.limits.perIp, account: o.limits.perAccount, client: o.limits.perClient };

  /** The scope that is over its limit (and the seconds left in its window), if any. */
  async function over(subjects: Array<[RateScope, string]>): Promise<{ scope: RateScope; retryAfter: number } | undefined> {
    const now = o.clock.now().getTime();
    const window = Math.floor(now / windowMs);
    const live = subjects.filter(([scope]) => limitOf[scope] > 0);
    if (live.length === 0) return undefined;
    let counts: number[];
    try {
      counts = await Promise.all(live.map(([scope, subject]) => o.cache.incr(rateLimitKey(scope, subject, window), o.limits.windowSeconds)));
    } catch (e) {
      own.errors++;
      totals.errors++;
      o.log?.error({ err: e instanceof Error ? e.message : String(e) }, 'rate-limit counters unavailable: request let through');
      return undefined;
    }
    const i = live.findIndex(([scope], n) => counts[n]! > limitOf[scope]);
    if (i < 0) return undefined;
    return { scope: live[i]![0], retryAfter: Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000)) };
  }

  function limited(subjects: (ctx: Parameters<Middleware>[0]) => Array<[RateScope, string]>): Middleware {
    return async (ctx, next) => {
      const hit = await over(subjects(ctx));
      if (!hit) return next();
      own.refused[hit.scope]++;
      totals.refused[hit.scope]++;
      const e = new AppError('GRAPH_RATE_LIMITED', MESSAGES[hit.scope], { scope: hit.scope, retryAfter: hit.retryAfter });
      ctx.status = 429;
      ctx.set('Retry-After', String(hit.retryAfter));
      ctx.set('Cache-Control', 'no-store');
      ctx.type = 'application/json';
      const body = graphqlErrorBody(e);
      Object.assign(body.errors[0]!.extensions, { scope: hit.scope, retryAfter: hit.retryAfter });
      ctx.body = body;
    };
  }

  return {
    byAddress: limited((ctx) => [['ip', ctx.ip]]),
    byPrincipal: limited((ctx) => {
      const auth = ctx.state.auth as AuthState | undefined;
      if (!auth?.token) return [];
      const out: Array<[RateScope, string]> = [['account', auth.token.caller.sub]];
      if (auth.token.clientId) out.push(['client', auth.token.clientId]);
      return out;
    }),
    counts: () => ({ refused: { ...own.refused }, errors: own.errors }),
  };
}
