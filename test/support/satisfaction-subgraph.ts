/**
 * A small subgraph in its own process (`node test/support/satisfaction-subgraph.ts`), so a test can
 * kill it or freeze it (SIGSTOP) while the gateway serves: it contributes `Item.satisfaction`,
 * signs nothing itself and accepts only the gateway's identity assertion (TEST_SECRET), like the
 * platform's subgraphs. Prints `LISTENING <url>` once it serves.
 */
import { parse } from 'graphql';
import { systemClock } from '../../kernel/clock.ts';
import { createHttpApp, listen } from '../../kernel/http.ts';
import { internalKey } from '../../kernel/internal-auth.ts';
import { silentLogger } from '../../kernel/log.ts';
import { mountSubgraph, type SubgraphContext } from '../../kernel/subgraph.ts';
import { TEST_SECRET } from './infra.ts';

export const SATISFACTION_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Item @key(fields: "id") { id: ID!  satisfaction: Satisfaction }
  type Satisfaction { count: Int! }
`;

if (process.argv[1]?.endsWith('satisfaction-subgraph.ts')) {
  const log = silentLogger();
  const { app, router } = createHttpApp({ name: 'satisfaction', log });
  await mountSubgraph<SubgraphContext>(router, {
    name: 'satisfaction', typeDefs: parse(SATISFACTION_SDL), key: internalKey(TEST_SECRET), clock: systemClock, log,
    resolvers: { Item: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, satisfaction: { count: ref.id.length } }) } } as never,
  });
  app.use(router.routes());
  const l = await listen(app, 0, '127.0.0.1');
  process.stdout.write(`LISTENING ${l.url}\n`);
}
