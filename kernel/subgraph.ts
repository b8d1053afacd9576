/**
 * An Apollo Federation subgraph on the shared HTTP shell. Every request must carry the gateway's
 * identity assertion for exactly this operation (see internal-auth.ts); anything else is refused
 * with 401 GATEWAY_IDENTITY_REQUIRED before GraphQL runs. Resolver errors that are AppErrors
 * reach the client with their code; anything else is logged and reported as INTERNAL.
 */
import type { KeyObject } from 'node:crypto';
import type { DocumentNode, GraphQLFormattedError } from 'graphql';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { koaMiddleware } from '@as-integrations/koa';
import { koaBody } from 'koa-body';
import type { Router, RouterMiddleware } from '@koa/router';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { isAppError, toProblem } from './errors.ts';
import { IDENTITY_HEADER, operationHash, verifyIdentity, type Caller } from './internal-auth.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './log.ts';
import type { Deps, RunningService, StartOptions } from './service.ts';
import { createHttpApp, listen, RETRY_AFTER_SECONDS } from './http.ts';

export interface SubgraphContext {
  caller: Caller;
}

export interface SubgraphOptions<C extends SubgraphContext> {
  name: string;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<C>;
  key: KeyObject;
  clock: Clock;
  log: Logger;
  /** Adds service objects to each request's context. */
  context?: (caller: Caller) => Omit<C, 'caller'>;
}

export function formatError(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (isAppError(original)) {
      if (original.code === 'SERVICE_UNAVAILABLE') log.warn({ err: (original as { cause?: unknown }).cause ?? original }, 'a dependency is unavailable');
      return { ...formatted, message: original.message, extensions: { code: original.code, ...(original.details ? { details: original.details } : {}) } };
    }
    const code = formatted.extensions?.code;
    if (code && code !== 'INTERNAL_SERVER_ERROR') return formatted;
    log.error({ err: original }, 'resolver failed');
    return { message: 'Internal error', path: formatted.path, extensions: { code: 'INTERNAL' } } as GraphQLFormattedError;
  };
}

/**
 * A response carrying SERVICE_UNAVAILABLE (the database or another service was unreachable)
 * gets `Retry-After`, as the HTTP shell's problem+json answers do, so clients and the gateway
 * can tell "retry shortly" from a failure.
 */
const retryAfterPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
        if (errors?.some((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE')) response.http.headers.set('retry-after', String(RETRY_AFTER_SECONDS));
      },
    };
  },
};

/** Mount `/graphql` on `router`; returns the server so the caller can stop it. */
export async function mountSubgraph<C extends SubgraphContext>(router: Router, opts: SubgraphOptions<C>): Promise<ApolloServer<C>> {
  const server = new ApolloServer<C>({
    schema: buildSubgraphSchema({ typeDefs: opts.typeDefs, resolvers: opts.resolvers as GraphQLResolverMap<unknown> }),
    formatError: formatError(opts.log),
    includeStacktraceInErrorResponses: false,
    introspection: true,
    // The process owns shutdown (kernel/service.ts); Apollo's own handler would re-raise the signal mid-way.
    stopOnTerminationSignals: false,
    // No federated tracing: nothing reports to Apollo, and traces would only cost time. No cache
    // hints either: nothing caches subgraph answers, and the hint plugin wraps every resolver.
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled(), retryAfterPlugin],
  });
  await server.start();
  const apollo = koaMiddleware(server, {
    context: async ({ ctx }) => {
      const caller = ctx.state.caller as Caller;
      return { ...(opts.context ? opts.context(caller) : {}), caller } as C;
    },
  });
  const guard: RouterMiddleware = async (ctx, next) => {
    const body = (ctx.request as unknown as { body?: { query?: string; variables?: unknown } }).body ?? {};
    try {
      ctx.state.caller = await verifyIdentity(opts.key, ctx.get(IDENTITY_HEADER) || undefined, operationHash(body.query, body.variables), opts.clock.now());
    } catch (e) {
      const { status, body: problem } = toProblem(e);
      ctx.status = status;
      ctx.type = 'application/problem+json';
      ctx.body = problem;
      return;
    }
    await next();
  };
  router.post('/graphql', koaBody({ jsonLimit: '2mb' }), guard, apollo as unknown as RouterMiddleware);
  return server;
}

/** A background loop the service runs (event consumer, outbox relay). */
export interface Background {
  stop(): Promise<void>;
  /** False while the loop cannot do its work (a consumer that cannot read its stream); /healthz then says degraded. */
  healthy?(): boolean;
}

export interface ServeSubgraphOptions<C extends SubgraphContext> extends Omit<SubgraphOptions<C>, 'key' | 'clock' | 'log'> {
  deps: Deps;
  start: StartOptions;
  /** Loops to stop when the service closes, or when starting it fails. */
  background: Background[];
  /** Plain HTTP routes beside /graphql (e.g. the licence service's /verify). */
  routes?: (router: Router) => void;
}

/**
 * The common shape of a subgraph service: the HTTP shell with /healthz (database, cache and the
 * background loops: a consumer that cannot read makes it degraded),
 * `/graphql` with the identity guard, optional extra routes, and one close() that stops the
 * background loops, then GraphQL, then the server. If anything fails while starting, the loops
 * already running are stopped before the error propagates.
 */
export async function serveSubgraph<C extends SubgraphContext>(o: ServeSubgraphOptions<C>): Promise<RunningService> {
  const { db, cache, clock, log } = o.deps;
  const stopBackground = async () => { for (const b of o.background) await b.stop(); };
  try {
    const { app, router } = createHttpApp({
      name: o.name, log, trustProxy: o.deps.config.TRUST_PROXY,
      health: {
        db: async () => (await db.query('select 1 as ok')).rows.length === 1,
        cache: () => cache.ping(),
        events: async () => o.background.every((b) => b.healthy?.() ?? true),
      },
    });
    o.routes?.(router);
    const apollo = await mountSubgraph<C>(router, { ...o, key: o.deps.internalKey, clock, log });
    app.use(router.routes()).use(router.allowedMethods());
    const server = await listen(app, o.start.port, o.start.host);
    return {
      name: o.name,
      url: server.url,
      async close() {
        await stopBackground();
        await apollo.stop();
        await server.close();
      },
    };
  } catch (e) {
    await stopBackground();
    throw e;
  }
}
