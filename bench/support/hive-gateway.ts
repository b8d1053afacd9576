/**
 * The gateway's engine alone, for the benchmark: Hive Gateway's runtime with the Rust query
 * planner over a supergraph, with none of the platform's plugins (no token verification, limits,
 * authorization, metrics or error shaping). It signs the same identity assertion on every subgraph
 * call as stock `@apollo/gateway` does in bench/support/apollo-gateway.ts (so the subgraphs accept
 * it), with the caller taken from the access token's claims WITHOUT verifying them — benchmark
 * use only. Identical fetches in flight are merged per caller as in the platform's gateway, here
 * through the HTTP executor's own deduplication keyed with the caller (gateway/upstream.ts merges
 * them itself, without the executor's copy of every answer).
 */
import { createServer } from 'node:http';
import type { KeyObject } from 'node:crypto';
import { createGatewayRuntime, type GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';
import { IDENTITY_HEADER, operationHash, signIdentity, type Caller } from '../../kernel/internal-auth.ts';
import { unverifiedCaller } from './unverified-caller.ts';
import { callerKey } from '../../gateway/upstream.ts';

/** Part of the HTTP executor's in-flight key (so fetches merge per caller); removed before sending. */
const CALLER_KEY_HEADER = 'x-bench-caller-key';

export async function startBareHive(supergraphSdl: string, urls: Record<string, string>, key: KeyObject): Promise<{ url: string; close(): Promise<void> }> {
  const runtime = createGatewayRuntime<{ caller?: Caller }>({
    supergraph: supergraphSdl,
    unifiedGraphHandler,
    transportEntries: Object.fromEntries(Object.entries(urls).map(([name, url]) => [name, { location: url, options: { deduplicateInflightRequests: true } }])),
    logging: false,
    landingPage: false,
    graphiql: false,
    plugins: (): GatewayPlugin[] => [{
      onContextBuilding({ context, extendContext }) {
        extendContext({ caller: unverifiedCaller(context.request.headers.get('authorization')) });
      },
      onSubgraphExecute({ executionRequest, setExecutionRequest }) {
        const extensions = executionRequest.extensions as { headers?: Record<string, string> } | undefined;
        setExecutionRequest({ ...executionRequest, extensions: { ...extensions, headers: { ...extensions?.headers, [CALLER_KEY_HEADER]: callerKey((executionRequest.context as { caller?: Caller }).caller) } } });
      },
      async onFetch({ options, setOptions, context }) {
        const { query, variables } = JSON.parse(options.body as string) as { query?: string; variables?: unknown };
        const caller = (context as { caller?: Caller }).caller ?? { kind: 'anonymous' };
        const { [CALLER_KEY_HEADER]: _key, ...headers } = options.headers as Record<string, string>;
        setOptions({ ...options, headers: { ...headers, [IDENTITY_HEADER]: await signIdentity(key, caller, operationHash(query, variables)) } });
      },
    } satisfies GatewayPlugin],
  });
  const server = createServer(runtime);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/graphql`,
    close: async () => { await runtime.dispose(); await new Promise<void>((r) => server.close(() => r())); },
  };
}
