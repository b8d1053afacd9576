/**
 * The engine under the gateway's HTTP shell: Hive Gateway's runtime (`@graphql-hive/gateway-runtime`,
 * MIT) with the Rust query planner (`@graphql-hive/router-runtime`), serving a Federation 2
 * supergraph. The Koa shell (service.ts) authenticates the caller first and hands the engine a
 * WHATWG Request plus the verified Caller; everything GraphQL happens here:
 *
 * - planning and execution over the subgraphs, each fetch signed with the identity assertion
 *   (upstream.ts) and bounded by the per-subgraph timeout;
 * - partial results: a subgraph that fails costs only its fields (errors at their paths,
 *   SERVICE_UNAVAILABLE / INTERNAL / the subgraph's own platform code);
 * - limits (limits.ts: GraphQL Armor rules, demand control, persisted documents);
 * - schema authorization (authz.ts: @authenticated, @requiresScopes, @policy);
 * - metrics and traces (observability.ts);
 * - errors shaped by format-error.ts.
 *
 * No outbound calls of its own: no usage reporting (`reporting` unset), no Hive CDN, no GraphOS,
 * no landing page or GraphiQL (which would load assets from a CDN in the browser).
 */
import type { KeyObject } from 'node:crypto';
import { createGatewayRuntime, type GatewayPlugin, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';
import type { Caller } from '../kernel/internal-auth.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Logger } from '../kernel/log.ts';
import { shapeResult } from './format-error.ts';
import { useSubgraphCalls, type FetchOutcome, type SubgraphTarget } from './upstream.ts';
import { assertKnownPolicies, genericAuthOptions, nothingLeftToPlan, samePlanForSameDocument } from './authz.ts';
import { demandControl } from './cost.ts';

/** What the HTTP shell hands the engine with each request (merged into the GraphQL context). */
export interface EngineServerContext {
  caller: Caller;
  /** The request id of the incoming request (kernel/http.ts), forwarded and logged. */
  requestId: string;
  /** OAuth scopes of the access token (space-separated `scope` claim), for @requiresScopes. */
  scopes: readonly string[];
}

export interface EngineOptions {
  supergraphSdl: string;
  /** Subgraph name → URL the engine calls (configuration wins over the file's URLs). */
  subgraphs: SubgraphTarget[];
  key: KeyObject;
  clock: Clock;
  log: Logger;
  /** Per-subgraph fetch timeout in ms. */
  subgraphTimeoutMs: number;
  /** Demand control: the highest cost, and the assumed size of a list without @listSize. */
  maxCost: number;
  listSize: number;
  /** Called once per subgraph fetch (metrics). */
  onFetchDone?: (subgraph: string, seconds: number, outcome: FetchOutcome) => void;
  /** Whether `__schema` / `__type` are answered (off in production, as before). */
  introspection: boolean;
  /** Extra plugins (limits, metrics, traces), in order. */
  plugins?: GatewayPlugin[];
}

export type Engine = GatewayRuntime<EngineServerContext>;

/**
 * Hive's logger reads LOG_LEVEL from the environment whenever one is made (also per request) and
 * throws on a level it does not know; the platform's LOG_LEVEL also allows `fatal` and `silent`.
 * The gateway's own logging already took its level from configuration, and the engine's loggers
 * are off (`logging: false`), so the variable is mapped to the nearest level Hive knows.
 */
export function hiveCompatibleLogLevel(env: NodeJS.ProcessEnv = process.env): void {
  const level = env.LOG_LEVEL;
  if (level !== undefined && !['trace', 'debug', 'info', 'warn', 'error'].includes(level)) env.LOG_LEVEL = 'error';
}

export function createEngine(o: EngineOptions): Engine {
  hiveCompatibleLogLevel();
  assertKnownPolicies(o.supergraphSdl);
  // The HTTP executor's own in-flight deduplication is off: it keys a fetch by URL and body only,
  // so identical fetches of DIFFERENT requests would be merged into one sent with the first
  // request's identity assertion, and every caller handed that caller's answer (it also copies
  // every answer, merged or not). upstream.ts merges identical queries of one caller instead.
  const transportEntries = Object.fromEntries(o.subgraphs.map((s) => [s.name, { location: s.url, options: { deduplicateInflightRequests: false } }]));
  return createGatewayRuntime<EngineServerContext>({
    supergraph: o.supergraphSdl,
    unifiedGraphHandler,
    transportEntries,
    logging: false,
    landingPage: false,
    graphiql: false,
    maskedErrors: false,
    // The Koa shell owns the request id (kernel/http.ts) and forwards it itself.
    requestId: false,
    // Subgraph error names and codes are shaped by format-error.ts, not by the runtime.
    subgraphErrors: false,
    healthCheckEndpoint: '/__engine/healthcheck',
    readinessCheckEndpoint: '/__engine/readiness',
    ...(o.introspection ? {} : { disableIntrospection: {} }),
    // Schema authorization before planning (authz.ts).
    genericAuth: genericAuthOptions() as never,
    plugins: () => [
      samePlanForSameDocument(),
      useSubgraphCalls({ subgraphs: o.subgraphs, key: o.key, clock: o.clock, log: o.log, timeoutMs: o.subgraphTimeoutMs, ...(o.onFetchDone ? { onFetchDone: o.onFetchDone } : {}) }),
      ...(o.plugins ?? []),
      nothingLeftToPlan(),
      demandControl(o.supergraphSdl, o.maxCost, o.listSize),
      shapeResult(o.log),
    ],
  });
}
