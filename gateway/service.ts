/**
 * The federated gateway: one GraphQL endpoint over the item, case, licence, evaluation and
 * identity subgraphs (architecture.md "Processes"; docs/graph.md).
 *
 * How it works
 * 1. Supergraph: `schema/supergraph.graphql`, composed at build time (`npm run compose`), read
 *    from disk at start (supergraph.ts). No introspection of subgraphs, no polling, no uplink.
 *    Subgraph URLs come from ITEM_URL / CASE_URL / LICENCE_URL / EVALUATION_URL / IDENTITY_URL
 *    and override the file's; a subgraph the platform does not know keeps the file's URL.
 * 2. HTTP shell (Koa, kernel/http.ts): request id, access log, `Authorization` → Caller
 *    (auth.ts, tokens.ts, claims.ts, delegations.ts: a refused token ends the request with 401
 *    before any GraphQL work), the 1 MB JSON body limit (body.ts), CSRF guard for GET.
 * 3. Engine (engine.ts): Hive Gateway's runtime with the Rust query planner; each subgraph fetch
 *    carries the identity assertion bound to the operation and is bounded by a timeout
 *    (upstream.ts); a failed subgraph costs only its fields (partial results).
 * 4. Before planning: limits (limits.ts: GraphQL Armor depth / aliases / tokens / directives,
 *    demand-control cost, trusted documents) and schema authorization (authz.ts:
 *    @authenticated, @requiresScopes, @policy).
 * 5. Errors (format-error.ts): platform codes reach the client; anything else is INTERNAL.
 * 6. Operations (observability.ts): GET /metrics (Prometheus), OpenTelemetry traces when
 *    GATEWAY_OTLP_ENDPOINT is set, the request id in every log line.
 * 7. No outbound calls of its own: the engine may fetch only the configured subgraph URLs.
 *
 * Routes: POST/GET /graphql, GET /metrics, GET /healthz (supergraph loaded), GET
 * /healthz/subgraphs (pings each subgraph's /healthz; informational).
 */
import './no-telemetry.ts';
import type { RouterMiddleware } from '@koa/router';
import type { Middleware } from 'koa';
import { createRemoteJWKSet, decodeJwt, type JWTVerifyGetKey } from 'jose';
import { createHttpApp, listen } from '../kernel/http.ts';
import type { Deps, RunningService, ServiceFactory, StartOptions } from '../kernel/service.ts';
import type { Caller } from '../kernel/internal-auth.ts';
import { jsonBody, DEFAULT_BODY_LIMIT } from './body.ts';
import { createEngine, hiveCompatibleLogLevel, type EngineServerContext } from './engine.ts';
import { readSupergraph, subgraphTargets, type SubgraphUrls } from './supergraph.ts';
import { limitPlugins, loadPersistedManifest, trustedDocuments, type LimitOptions } from './limits.ts';
import { graphqlErrorBody } from './auth.ts';
import { ERROR_CODES, isAppError, type ErrorCode } from '../kernel/errors.ts';
import { REQUEST_ERROR_CODES } from './format-error.ts';
import { createMetrics, tracingPlugins } from './observability.ts';
import { createGatewayGuard } from './guard.ts';
import { rateLimitCounts } from './rate-limit.ts';

export interface GatewayOptions {
  /** Per-subgraph URL overrides (tests, the CLI); configuration is used otherwise. */
  subgraphUrls?: SubgraphUrls;
  /** Key source for access tokens (tests); default: the IdP's remote JWKS. */
  jwks?: JWTVerifyGetKey;
  /** Supergraph SDL to serve instead of schema/supergraph.graphql (tests, the CLI). */
  supergraphSdl?: string;
  /** JSON body limit, default 1mb. */
  bodyLimit?: string;
  /** Limits overriding configuration (tests). */
  limits?: Partial<LimitOptions>;
  /** Subgraph timeout overriding GATEWAY_SUBGRAPH_TIMEOUT_MS (tests). */
  subgraphTimeoutMs?: number;
  /**
   * Subgraph URLs from the supergraph file unless overridden (`yiwang gateway --supergraph`);
   * default: the platform's subgraphs take their URLs from configuration.
   */
  urlsFromFile?: boolean;
}

export function jwksUrl(config: Deps['config']): URL {
  return new URL(config.IDP_JWKS_URL ?? `${config.IDP_ISSUER.replace(/\/+$/, '')}/jwks`);
}

/** Apollo's CSRF rule: a GET must carry a header a browser cannot send cross-site without a preflight. */
const PREFLIGHT_HEADERS = ['apollo-require-preflight', 'x-apollo-operation-name', 'graphql-require-preflight'];

/**
 * The HTTP status of an answer the engine did not mark 200: an executed operation (it has `data`,
 * even null) is 200 whatever its errors (partial results); a refused request takes the status of
 * its first error's code (400 for GraphQL request errors and limits, 401 / 403, 500 INTERNAL).
 */
function httpStatusOf(text: string, engineStatus: number): number {
  let parsed: { data?: unknown; errors?: Array<{ extensions?: { code?: unknown } }> };
  try { parsed = JSON.parse(text) as typeof parsed; } catch { return engineStatus; }
  if (parsed.data !== undefined) return 200;
  const code = parsed.errors?.[0]?.extensions?.code;
  if (typeof code === 'string' && Object.hasOwn(ERROR_CODES, code)) return ERROR_CODES[code as ErrorCode].status;
  if (typeof code === 'string' && REQUEST_ERROR_CODES.has(code)) return 400;
  return engineStatus;
}

const TOKEN = /^(?:Bearer|DPoP) +(\S+)$/i;

/** OAuth scopes of the (already verified) access token, for @requiresScopes. */
function scopesOf(authorization: string): string[] {
  const m = TOKEN.exec(authorization);
  if (!m?.[1]) return [];
  const scope = decodeJwt(m[1]).scope;
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

export async function startGatewayService(deps: Deps, opts: StartOptions, extra: GatewayOptions = {}): Promise<RunningService> {
  const { config, clock, log } = deps;
  hiveCompatibleLogLevel(); // before any of Hive's loggers exists (metrics, engine)
  const supergraphSdl = extra.supergraphSdl ?? readSupergraph(config.GATEWAY_SUPERGRAPH);
  const subgraphs = subgraphTargets(supergraphSdl, config, extra.subgraphUrls, extra.urlsFromFile);
  const metrics = createMetrics();
  const limits: LimitOptions = {
    maxDepth: config.GATEWAY_MAX_DEPTH,
    maxAliases: config.GATEWAY_MAX_ALIASES,
    maxTokens: config.GATEWAY_MAX_TOKENS,
    maxDirectives: config.GATEWAY_MAX_DIRECTIVES,
    maxCost: config.GATEWAY_MAX_COST,
    listSize: config.GATEWAY_LIST_SIZE,
    persistedOnly: config.GATEWAY_PERSISTED_ONLY,
    manifest: loadPersistedManifest(config.GATEWAY_PERSISTED_MANIFEST),
    ...extra.limits,
  };
  const engine = createEngine({
    supergraphSdl,
    subgraphs,
    key: deps.internalKey,
    clock,
    log,
    subgraphTimeoutMs: extra.subgraphTimeoutMs ?? config.GATEWAY_SUBGRAPH_TIMEOUT_MS,
    introspection: config.NODE_ENV !== 'production',
    maxCost: limits.maxCost,
    listSize: limits.listSize,
    onFetchDone: metrics.subgraphFetch,
    plugins: [
      ...(await tracingPlugins(config.GATEWAY_OTLP_ENDPOINT, log)),
      metrics.plugin,
      ...limitPlugins(limits),
    ],
  });
  // Loads and plans against the supergraph now: an invalid one stops the start, not the first request.
  await engine.getSchema();
  let loaded = true;

  // Tokens, DPoP proofs (guard.ts): one middleware in front of the engine.
  const guard = createGatewayGuard(deps, extra.jwks ?? createRemoteJWKSet(jwksUrl(config)));

  const trusted = trustedDocuments(limits.manifest);
  /** Trusted documents: an id becomes its text; with GATEWAY_PERSISTED_ONLY nothing else passes. */
  function resolveDocument(params: Record<string, unknown>): Record<string, unknown> {
    const checked = trusted.check(params, limits.persistedOnly);
    const ext = checked.extensions as { persistedQuery?: { sha256Hash?: string } } | undefined;
    const id = typeof checked.documentId === 'string' ? checked.documentId : ext?.persistedQuery?.sha256Hash;
    if (id === undefined) return checked;
    const { documentId: _id, extensions, ...rest } = checked;
    const { persistedQuery: _pq, ...otherExtensions } = (extensions ?? {}) as Record<string, unknown>;
    return { ...rest, query: trusted.get(id), ...(Object.keys(otherExtensions).length ? { extensions: otherExtensions } : {}) };
  }

  const graphql: Middleware = async (ctx) => {
    const requestId = ctx.response.get('x-request-id');
    if (ctx.method === 'GET' && !PREFLIGHT_HEADERS.some((h) => ctx.get(h))) {
      ctx.status = 400;
      ctx.type = 'application/json';
      ctx.body = { errors: [{ message: `GET requests need one of the headers ${PREFLIGHT_HEADERS.join(', ')} (CSRF prevention)`, extensions: { code: 'BAD_REQUEST' } }] };
      return;
    }
    const caller = (ctx.state.caller as Caller | undefined) ?? { kind: 'anonymous' };
    const server: EngineServerContext = { caller, requestId, scopes: caller.kind === 'anonymous' ? [] : scopesOf(ctx.get('authorization')) };
    const headers: Record<string, string> = { accept: ctx.get('accept') || 'application/json' };
    for (const h of ['graphql-client-name', 'graphql-client-version', 'traceparent', 'tracestate', 'baggage']) if (ctx.get(h)) headers[h] = ctx.get(h);
    let body: string | undefined;
    let url = `http://gateway${ctx.url}`;
    try {
      if (ctx.method === 'POST') {
        headers['content-type'] = 'application/json';
        const params = (ctx.request as unknown as { body?: unknown }).body;
        body = JSON.stringify(params && typeof params === 'object' && !Array.isArray(params) ? resolveDocument(params as Record<string, unknown>) : params ?? {});
      } else {
        const q = new URLSearchParams(ctx.querystring);
        const params: Record<string, unknown> = Object.fromEntries(q);
        if (typeof params.extensions === 'string') params.extensions = JSON.parse(params.extensions);
        const resolved = resolveDocument(params);
        const out = new URLSearchParams();
        for (const [k, v] of Object.entries(resolved)) if (v !== undefined) out.set(k, typeof v === 'string' ? v : JSON.stringify(v));
        url = `http://gateway${ctx.path}?${out.toString()}`;
      }
    } catch (e) {
      if (!isAppError(e)) throw e;
      ctx.status = e.status;
      ctx.type = 'application/json';
      ctx.body = graphqlErrorBody(e);
      return;
    }
    const res = await engine.fetch(url, { method: ctx.method, headers, body }, server);
    const text = await res.text();
    ctx.status = res.status === 200 ? 200 : httpStatusOf(text, res.status);
    ctx.set('cache-control', 'no-store');
    ctx.type = res.headers.get('content-type') ?? 'application/json';
    ctx.body = text;
  };

  const { app, router } = createHttpApp({ name: 'gateway', log, trustProxy: deps.config.TRUST_PROXY, health: { supergraph: async () => loaded } });
  const auth = guard.middleware as unknown as RouterMiddleware;
  router.post('/graphql', auth, jsonBody(extra.bodyLimit ?? DEFAULT_BODY_LIMIT) as unknown as RouterMiddleware, graphql as unknown as RouterMiddleware);
  router.get('/graphql', auth, graphql as unknown as RouterMiddleware);
  // Rate-limit refusals are counted by the limiter (rate-limit.ts); /metrics carries them over.
  const seenRefusals = { ip: 0, account: 0, client: 0 };
  router.get('/metrics', async (ctx) => {
    const refused = rateLimitCounts().refused;
    for (const limit of ['ip', 'account', 'client'] as const) {
      if (refused[limit] > seenRefusals[limit]) metrics.rateLimited.inc({ limit }, refused[limit] - seenRefusals[limit]);
      seenRefusals[limit] = refused[limit];
    }
    ctx.type = metrics.contentType;
    ctx.body = await metrics.render();
  });
  router.get('/healthz/subgraphs', async (ctx) => {
    const checks: Record<string, 'ok' | 'fail'> = {};
    await Promise.all(subgraphs.map(async ({ name, url }) => {
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
    await engine.dispose();
    throw e;
  });
  return {
    name: 'gateway',
    url: listening.url,
    async close() {
      loaded = false;
      await listening.close();
      await engine.dispose();
    },
  };
}

// The extra (test) argument must never break the shared factory contract.
startGatewayService satisfies ServiceFactory;
