/**
 * An Apollo Federation subgraph on the shared HTTP shell. Every request must carry the gateway's
 * identity assertion for exactly this operation (see internal-auth.ts); anything else is refused
 * with 401 GATEWAY_IDENTITY_REQUIRED before GraphQL runs. Resolver errors that are AppErrors
 * reach the client with their code; anything else is logged and reported as INTERNAL.
 */
import type { KeyObject } from 'node:crypto';
import type { DocumentNode, GraphQLFormattedError } from 'graphql';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { koaMiddleware } from '@as-integrations/koa';
import { koaBody } from 'koa-body';
import type { Router, RouterMiddleware } from '@koa/router';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { isAppError, toProblem } from './errors.ts';
import { IDENTITY_HEADER, operationHash, verifyIdentity, type Caller } from './internal-auth.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './log.ts';

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
      return { ...formatted, message: original.message, extensions: { code: original.code, ...(original.details ? { details: original.details } : {}) } };
    }
    const code = formatted.extensions?.code;
    if (code && code !== 'INTERNAL_SERVER_ERROR') return formatted;
    log.error({ err: original }, 'resolver failed');
    return { message: 'Internal error', path: formatted.path, extensions: { code: 'INTERNAL' } } as GraphQLFormattedError;
  };
}

/** Mount `/graphql` on `router`; returns the server so the caller can stop it. */
export async function mountSubgraph<C extends SubgraphContext>(router: Router, opts: SubgraphOptions<C>): Promise<ApolloServer<C>> {
  const server = new ApolloServer<C>({
    schema: buildSubgraphSchema({ typeDefs: opts.typeDefs, resolvers: opts.resolvers as GraphQLResolverMap<unknown> }),
    formatError: formatError(opts.log),
    includeStacktraceInErrorResponses: false,
    introspection: true,
    // The process owns shutdown (kernel/service.ts); Apollo's own handler would re-raise the signal mid-way.
    stopOnTerminationSignals: false,
    // No federated tracing: nothing reports to Apollo, and traces would only cost time.
    plugins: [ApolloServerPluginInlineTraceDisabled()],
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
