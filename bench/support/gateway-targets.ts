/**
 * Processes for `npm run bench gateway`, each started as `node bench/support/gateway-targets.ts <kind>`
 * and printing `READY <json>` once it serves:
 *
 * - `subgraphs`: four small Federation 2 subgraphs (products, inventory, reviews, accounts) on the
 *   platform's subgraph shell (each refuses calls without the gateway's identity assertion);
 * - `yiwang`: the platform gateway (token verification against BENCH_JWKS_URL, identity assertion,
 *   limits, authorization, metrics) over the composed supergraph;
 * - `hive`: the engine alone (Hive runtime + Rust planner, none of the platform's plugins), signing
 *   the same assertion;
 * - `apollo`: stock `@apollo/gateway` over the same supergraph, signing the same assertion;
 * - `monolith`: one non-federated graphql-js server of the same schema and data (the ceiling).
 *
 * Environment: BENCH_SECRET (internal secret), BENCH_URLS (JSON name → subgraph URL),
 * BENCH_ISSUER / BENCH_JWKS_URL (yiwang).
 */
import { createServer } from 'node:http';
import { composeServices } from '@theguild/federation-composition';
import { buildSchema, graphql, parse } from 'graphql';
import { systemClock } from '../../kernel/clock.ts';
import { createHttpApp, listen } from '../../kernel/http.ts';
import { internalKey } from '../../kernel/internal-auth.ts';
import { silentLogger } from '../../kernel/log.ts';
import { mountSubgraph, type SubgraphContext } from '../../kernel/subgraph.ts';

const FED = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@external", "@requires", "@provides", "@shareable"])';

export const SUBGRAPH_SDL = {
  products: `${FED}
    type Query { topProducts(first: Int = 20): [Product!]! }
    type Product @key(fields: "upc") { upc: String!  name: String!  price: Int!  weight: Int! }`,
  inventory: `${FED}
    type Product @key(fields: "upc") {
      upc: String!  weight: Int! @external  price: Int! @external
      inStock: Boolean!  shippingEstimate: Int! @requires(fields: "price weight")
    }`,
  reviews: `${FED}
    type Review { id: ID!  body: String!  author: User! @provides(fields: "username")  product: Product! }
    type User @key(fields: "id") { id: ID!  username: String! @external  reviews: [Review!]! }
    type Product @key(fields: "upc") { upc: String!  reviews: [Review!]! }`,
  accounts: `${FED}
    type User @key(fields: "id") { id: ID!  name: String!  username: String! @shareable }`,
};

export const MONOLITH_SDL = `
  type Query { topProducts(first: Int = 20): [Product!]! }
  type Product { upc: String!  name: String!  price: Int!  weight: Int!  inStock: Boolean!  shippingEstimate: Int!  reviews: [Review!]! }
  type Review { id: ID!  body: String!  author: User!  product: Product! }
  type User { id: ID!  name: String!  username: String!  reviews: [Review!]! }
`;

export const QUERY = `query Nested($first: Int) { topProducts(first: $first) {
  upc name price weight inStock shippingEstimate
  reviews { id body author { id username name reviews { id body product { upc name inStock } } } }
} }`;

// The data: 20 products, 10 users, 4 reviews per product.
const PRODUCTS = Array.from({ length: 20 }, (_, i) => ({ upc: `p${i + 1}`, name: `商品 ${i + 1} / product ${i + 1}`, price: 100 + i * 7, weight: 10 + (i % 5) * 3 }));
const USERS = Array.from({ length: 10 }, (_, i) => ({ id: `u${i + 1}`, name: `用户 ${i + 1}`, username: `user${i + 1}` }));
const REVIEWS = PRODUCTS.flatMap((p, i) => Array.from({ length: 4 }, (_, j) => ({
  id: `r${i * 4 + j + 1}`, body: `评价 ${i * 4 + j + 1}：很好 / review ${i * 4 + j + 1} of ${p.name}`, authorId: USERS[(i * 4 + j) % USERS.length]!.id, upc: p.upc,
})));
const product = (upc: string) => PRODUCTS.find((p) => p.upc === upc)!;
const user = (id: string) => USERS.find((u) => u.id === id)!;
const inStock = (upc: string) => Number(upc.slice(1)) % 3 !== 0;
const shipping = (p: { price: number; weight: number }) => (p.price > 150 ? 0 : Math.round(p.weight * 0.5));

const RESOLVERS = {
  products: {
    Query: { topProducts: (_: unknown, { first }: { first: number }) => PRODUCTS.slice(0, first) },
    Product: { __resolveReference: (r: { upc: string }) => product(r.upc) },
  },
  inventory: {
    Product: {
      __resolveReference: (r: { upc: string; price: number; weight: number }) => ({ ...r, inStock: inStock(r.upc), shippingEstimate: shipping(r) }),
    },
  },
  reviews: {
    Review: { author: (r: { authorId: string }) => ({ id: r.authorId, username: user(r.authorId).username }), product: (r: { upc: string }) => ({ upc: r.upc }) },
    User: { __resolveReference: (r: { id: string }) => ({ id: r.id }), reviews: (u: { id: string }) => REVIEWS.filter((r) => r.authorId === u.id) },
    Product: { __resolveReference: (r: { upc: string }) => ({ upc: r.upc }), reviews: (p: { upc: string }) => REVIEWS.filter((r) => r.upc === p.upc) },
  },
  accounts: {
    User: { __resolveReference: (r: { id: string }) => user(r.id) },
  },
};

const MONOLITH_RESOLVERS = {
  topProducts: ({ first }: { first: number }) => PRODUCTS.slice(0, first).map(monoProduct),
};
function monoProduct(p: (typeof PRODUCTS)[number]): unknown {
  return { ...p, inStock: inStock(p.upc), shippingEstimate: shipping(p), reviews: () => REVIEWS.filter((r) => r.upc === p.upc).map(monoReview) };
}
function monoReview(r: (typeof REVIEWS)[number]): unknown {
  return { id: r.id, body: r.body, product: () => monoProduct(product(r.upc)), author: () => monoUser(user(r.authorId)) };
}
function monoUser(u: (typeof USERS)[number]): unknown {
  return { ...u, reviews: () => REVIEWS.filter((r) => r.authorId === u.id).map(monoReview) };
}

export function supergraph(urls: Record<string, string>): string {
  const r = composeServices(Object.entries(SUBGRAPH_SDL).map(([name, sdl]) => ({ name, url: urls[name]!, typeDefs: parse(sdl) })));
  if (r.errors?.length) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.supergraphSdl!;
}

function ready(info: unknown): void {
  process.stdout.write(`READY ${JSON.stringify(info)}\n`);
}

if (process.argv[1]?.endsWith('gateway-targets.ts')) {
  const kind = process.argv[2];
  const secret = process.env.BENCH_SECRET!;
  const key = internalKey(secret);
  const log = silentLogger();
  // A normal exit on SIGTERM, so `--cpu-prof` (BENCH_PROFILE) writes its profile.
  process.once('SIGTERM', () => process.exit(0));
  if (kind === 'subgraphs') {
    const urls: Record<string, string> = {};
    for (const [name, sdl] of Object.entries(SUBGRAPH_SDL)) {
      const { app, router } = createHttpApp({ name, log });
      await mountSubgraph<SubgraphContext>(router, { name, typeDefs: parse(sdl), resolvers: RESOLVERS[name as keyof typeof RESOLVERS] as never, key, clock: systemClock, log });
      app.use(router.routes());
      urls[name] = `${(await listen(app, 0, '127.0.0.1')).url}/graphql`;
    }
    ready(urls);
  } else if (kind === 'yiwang') {
    const { startGatewayService } = await import('../../gateway/service.ts');
    const { loadConfig } = await import('../../kernel/config.ts');
    const { openCache } = await import('../../kernel/cache.ts');
    const urls = JSON.parse(process.env.BENCH_URLS!) as Record<string, string>;
    const config = loadConfig({
      NODE_ENV: 'test', LOG_LEVEL: 'error', IDP_ISSUER: process.env.BENCH_ISSUER!, IDP_JWKS_URL: process.env.BENCH_JWKS_URL!,
      YIWANG_INTERNAL_SECRET: secret, KEY_PASSPHRASE: secret, IDP_COOKIE_KEYS: 'bench-cookie-key-0123456789abcdef',
      // The nested query is priced far above the default limit (4 × 20 × 4 × … objects): the benchmark measures the engine.
      GATEWAY_MAX_COST: '100000000', GATEWAY_MAX_ALIASES: '30',
      // One account from one address sends every request: rate limits off (the check still runs, a limit of 0 skips its counter).
      GATEWAY_RATE_LIMIT_PER_IP: '0', GATEWAY_RATE_LIMIT_PER_ACCOUNT: '0', GATEWAY_RATE_LIMIT_PER_CLIENT: '0',
    });
    const svc = await startGatewayService({
      config, secrets: { internalSecret: secret, keyPassphrase: secret, cookieKeys: ['k'] }, internalKey: key,
      db: undefined as never, cache: await openCache({ url: undefined, prefix: 'bench:' }), clock: systemClock, log,
    }, { port: 0, host: '127.0.0.1' }, { supergraphSdl: supergraph(urls), subgraphUrls: urls });
    ready({ url: `${svc.url}/graphql` });
  } else if (kind === 'hive') {
    const { startBareHive } = await import('./hive-gateway.ts');
    const urls = JSON.parse(process.env.BENCH_URLS!) as Record<string, string>;
    const gw = await startBareHive(supergraph(urls), urls, key);
    ready({ url: gw.url });
  } else if (kind === 'apollo') {
    const { startStockApolloGateway } = await import('./apollo-gateway.ts');
    const urls = JSON.parse(process.env.BENCH_URLS!) as Record<string, string>;
    const gw = await startStockApolloGateway(supergraph(urls), urls, key);
    ready({ url: gw.url });
  } else if (kind === 'monolith') {
    const schema = buildSchema(MONOLITH_SDL);
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', async () => {
        const { query, variables } = JSON.parse(body) as { query: string; variables?: Record<string, unknown> };
        const result = await graphql({ schema, source: query, rootValue: MONOLITH_RESOLVERS, variableValues: variables ?? null });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    ready({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}/graphql` });
  } else {
    throw new Error(`unknown kind ${kind}`);
  }
}
