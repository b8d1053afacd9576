/**
 * The federated gateway: one GraphQL endpoint over the item, case, licence and evaluation
 * subgraphs (architecture.md "Processes").
 *
 * How it works
 * 1. Supergraph: `schema/supergraph.graphql`, composed at build time, read from disk at start
 *    (supergraph.ts). No introspection of subgraphs, no polling, no Apollo uplink. Subgraph URLs
 *    come from ITEM_URL / CASE_URL / LICENCE_URL / EVALUATION_URL and override the file's.
 * 2. Authentication (auth.ts, tokens.ts): `Authorization: Bearer <JWT access token>` from the IdP,
 *    verified with jose against the IdP's JWKS (IDP_JWKS_URL, default `<IDP_ISSUER>/jwks`):
 *    RS256/ES256 only, `typ` at+jwt, `iss` = IDP_ISSUER, `aud` = GATEWAY_RESOURCE, exp/nbf with
 *    5 s tolerance. Verified tokens are cached until they expire. A refused token ends the request
 *    with 401 + TOKEN_INVALID | TOKEN_EXPIRED | TOKEN_ISSUER | TOKEN_AUDIENCE and
 *    `WWW-Authenticate: Bearer error="invalid_token"`; nothing reaches a subgraph. No header:
 *    anonymous caller; the subgraphs decide what is public.
 * 3. Claims → Caller (claims.ts): person or staff (agency + roles); anything else is TOKEN_INVALID.
 *    A person acting for a company (`yw_act`) is checked on every request against the
 *    delegation's end and the revoke / change markers the IdP writes to the shared cache
 *    (delegations.ts; REDIS_URL, GATEWAY_DELEGATION_CHECK_SECONDS): TOKEN_DELEGATION_ENDED.
 * 4. Subgraph calls (datasource.ts): each carries `x-yiwang-identity`, an HS256 assertion of the
 *    caller bound to the exact query + variables sent (kernel/internal-auth.ts), and the request's
 *    `x-request-id`; never the user's Authorization header or cookies.
 * 5. Errors (format-error.ts): codes from kernel/errors.ts, including subgraphs' (ROLE_REQUIRED …),
 *    reach the client in `extensions.code`; anything else becomes INTERNAL without internals.
 * 6. Limits: 1 MB JSON bodies (body.ts), depth ≤ 15 (limits.ts), Apollo's recursive-selection
 *    guard, no batching.
 * 7. No outbound calls of its own: telemetry disabled before @apollo/gateway loads
 *    (no-telemetry.ts), usage/schema reporting and the CDN landing page disabled by plugins.
 *
 * Routes: POST/GET /graphql, GET /healthz (supergraph loaded), GET /healthz/subgraphs (pings
 * each subgraph's /healthz; informational, so one subgraph down does not take every gateway out
 * of a load balancer).
 */
import './no-telemetry.ts';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerOptionsWithGateway } from '@apollo/server';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { koaMiddleware } from '@as-integrations/koa';
import type { RouterMiddleware } from '@koa/router';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { createHttpApp, listen } from '../kernel/http.ts';
import type { Deps, RunningService, ServiceFactory, StartOptions } from '../kernel/service.ts';
import type { Caller } from '../kernel/internal-auth.ts';
import type { Logger } from '../kernel/log.ts';
import { jsonBody, DEFAULT_BODY_LIMIT } from './body.ts';
import { IdentityDataSource, type GatewayContext } from './datasource.ts';
import { gatewayFormatError } from './format-error.ts';
import { depthLimit, DEFAULT_MAX_DEPTH } from './limits.ts';
import { readSupergraph, subgraphUrl, type SubgraphUrls } from './supergraph.ts';
import { createGatewayGuard } from './guard.ts';

export interface GatewayOptions {
  /** Per-subgraph URL overrides (tests); configuration is used otherwise. */
  subgraphUrls?: SubgraphUrls;
  /** Key source for access tokens (tests); default: the IdP's remote JWKS. */
  jwks?: JWTVerifyGetKey;
  /** Supergraph SDL to serve instead of schema/supergraph.graphql (tests). */
  supergraphSdl?: string;
  /** JSON body limit, default 1mb. */
  bodyLimit?: string;
  /** Maximum selection depth, default 15. */
  maxDepth?: number;
}

export function jwksUrl(config: Deps['config']): URL {
  return new URL(config.IDP_JWKS_URL ?? `${config.IDP_ISSUER.replace(/\/+$/, '')}/jwks`);
}

/** Apollo's logger interface over pino (messages only: Apollo never logs request data here). */
function apolloLogger(log: Logger) {
  return {
    debug: (m: unknown) => log.debug(String(m)),
    info: (m: unknown) => log.info(String(m)),
    warn: (m: unknown) => log.warn(String(m)),
    error: (m: unknown) => log.error(String(m)),
  };
}

/** The Apollo Server configuration, exported so a test can prove it reports nowhere. */
export function apolloServerConfig(gateway: ApolloGateway, log: Logger, maxDepth: number): ApolloServerOptionsWithGateway<GatewayContext> {
  return {
    gateway,
    logger: apolloLogger(log),
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
    ],
    formatError: gatewayFormatError(log),
    includeStacktraceInErrorResponses: false,
    validationRules: [depthLimit(maxDepth)],
    maxRecursiveSelections: true,
    // runStandalone / bin/start.ts own the signals and stop services in order.
    stopOnTerminationSignals: false,
  };
}

export async function startGatewayService(deps: Deps, opts: StartOptions, extra: GatewayOptions = {}): Promise<RunningService> {
  const { config, clock, log } = deps;
  const supergraphSdl = extra.supergraphSdl ?? readSupergraph();
  const subgraphs = new Map<string, string>();

  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => {
      const target = subgraphUrl(name, url, config, extra.subgraphUrls);
      subgraphs.set(name, target);
      return new IdentityDataSource({ name, url: target, key: deps.internalKey, clock, log });
    },
    logger: apolloLogger(log),
    serviceHealthCheck: false,
    // Apollo's default is on outside production: a request header would return the query plan.
    __exposeQueryPlanExperimental: false,
  });
  const server = new ApolloServer<GatewayContext>(apolloServerConfig(gateway, log, extra.maxDepth ?? DEFAULT_MAX_DEPTH));
  await server.start(); // loads the supergraph; throws (and the service does not start) if it is invalid
  let loaded = true;

  // Tokens, DPoP proofs (guard.ts): one middleware in front of the engine.
  const guard = createGatewayGuard(deps, extra.jwks ?? createRemoteJWKSet(jwksUrl(config)));

  const { app, router } = createHttpApp({ name: 'gateway', log, trustProxy: deps.config.TRUST_PROXY, health: { supergraph: async () => loaded } });
  const apollo = koaMiddleware(server, {
    context: async ({ ctx }) => ({
      caller: (ctx.state.caller as Caller | undefined) ?? { kind: 'anonymous' },
      requestId: ctx.response.get('x-request-id'),
    }),
  }) as unknown as RouterMiddleware;
  const auth = guard.middleware as unknown as RouterMiddleware;
  router.post('/graphql', auth, jsonBody(extra.bodyLimit ?? DEFAULT_BODY_LIMIT) as unknown as RouterMiddleware, apollo);
  router.get('/graphql', auth, apollo);
  router.get('/healthz/subgraphs', async (ctx) => {
    const checks: Record<string, 'ok' | 'fail'> = {};
    await Promise.all([...subgraphs].map(async ([name, url]) => {
      const res = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
      checks[name] = res?.ok ? 'ok' : 'fail';
      await res?.body?.cancel();
    }));
    const ok = Object.values(checks).every((v) => v === 'ok');
    ctx.status = ok ? 200 : 503;
    ctx.body = { service: 'gateway', status: ok ? 'ok' : 'degraded', checks };
  });
  app.use(router.routes());
  app.use(router.allowedMethods());

  const listening = await listen(app, opts.port, opts.host).catch(async (e: unknown) => {
    await server.stop();
    throw e;
  });
  return {
    name: 'gateway',
    url: listening.url,
    async close() {
      loaded = false;
      await listening.close();
      await server.stop();
    },
  };
}

// The extra (test) argument must never break the shared factory contract.
startGatewayService satisfies ServiceFactory;
