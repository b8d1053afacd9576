/**
 * Everything the gateway checks about a request's identity before the GraphQL engine sees it,
 * assembled from the service's dependencies as one Koa middleware (`guard.middleware`):
 *
 * 1. the access token (gateway/tokens.ts: JWKS, iss, aud, exp, typ; acting-for delegations,
 *    gateway/delegations.ts);
 * 2. revocation: the token's grant revoked or its account disabled since it was issued
 *    (gateway/revocation.ts, markers the IdP writes to the shared cache);
 * 3. its key binding: a DPoP proof for a token with `cnf.jkt` (gateway/dpop.ts, replay refused
 *    across gateway processes through the shared cache, server nonces from the internal key);
 * 4. rate limits (gateway/rate-limit.ts): the client address before anything else, the account
 *    and the client application once the token is verified; 429 GRAPH_RATE_LIMITED.
 *
 * The engine (service.ts) only mounts `guard.middleware` in front of /graphql and reads
 * `ctx.state.caller`.
 */
import type { Middleware } from 'koa';
import type { JWTVerifyGetKey } from 'jose';
import type { Deps } from '../kernel/service.ts';
import { tokenAuth } from './auth.ts';
import { createDelegationGuard } from './delegations.ts';
import { createDpopChecker } from './dpop.ts';
import { createRevocationGuard } from './revocation.ts';
import { createRateLimiter, type RateLimiter } from './rate-limit.ts';
import { createTokenVerifier, type TokenVerifier } from './tokens.ts';

export interface GatewayGuard {
  middleware: Middleware;
  verifier: TokenVerifier;
  rateLimiter: RateLimiter;
}

export function createGatewayGuard(deps: Deps, jwks: JWTVerifyGetKey): GatewayGuard {
  const { config, clock, log, cache } = deps;
  const verifier = createTokenVerifier({
    issuer: config.IDP_ISSUER,
    audience: config.GATEWAY_RESOURCE,
    jwks,
    clock,
    log,
    // R-ID-8: acting-for tokens end within seconds of a revoke (markers the IdP writes to the shared cache).
    delegations: createDelegationGuard({ cache, checkSeconds: config.GATEWAY_DELEGATION_CHECK_SECONDS, log }),
    // Revoked grants and disabled accounts end their tokens within seconds.
    revocation: createRevocationGuard({ cache, checkSeconds: config.GATEWAY_REVOCATION_CHECK_SECONDS, log }),
  });
  const dpop = createDpopChecker({
    cache, clock, log,
    nonceKey: deps.internalKey,
    iatWindowSeconds: config.GATEWAY_DPOP_IAT_WINDOW_SECONDS,
    requireNonce: config.GATEWAY_DPOP_REQUIRE_NONCE,
  });
  const rateLimiter = createRateLimiter({
    cache, clock, log,
    limits: {
      windowSeconds: config.GATEWAY_RATE_LIMIT_WINDOW_SECONDS,
      perIp: config.GATEWAY_RATE_LIMIT_PER_IP,
      perAccount: config.GATEWAY_RATE_LIMIT_PER_ACCOUNT,
      perClient: config.GATEWAY_RATE_LIMIT_PER_CLIENT,
    },
  });
  const auth = tokenAuth({ verifier, dpop });
  const middleware: Middleware = (ctx, next) =>
    rateLimiter.byAddress(ctx, () => auth(ctx, () => rateLimiter.byPrincipal(ctx, next)));
  return { verifier, rateLimiter, middleware };
}
