/**
 * OpenTelemetry with GATEWAY_OTLP_ENDPOINT set: spans reach an OTLP/HTTP receiver (a local server
 * standing in for the collector) as service `yiwang-gateway`, and the subgraph call carries the
 * trace's `traceparent`. (In its own file: the tracer provider is process-wide.)
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import type { Middleware } from 'koa';
import { loadConfig } from '../kernel/config.ts';
import { systemClock } from '../kernel/clock.ts';
import { createHttpApp, listen, type Listening } from '../kernel/http.ts';
import { internalKey } from '../kernel/internal-auth.ts';
import { silentLogger } from '../kernel/log.ts';
import type { Deps, RunningService } from '../kernel/service.ts';
import { mountSubgraph, type SubgraphContext } from '../kernel/subgraph.ts';
import type { Cache } from '../kernel/cache.ts';
import type { Db } from '../kernel/db.ts';
import { TEST_SECRET } from '../test/support/infra.ts';
import { eventually } from '../test/support/eventually.ts';
import { startGatewayService } from './service.ts';

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { hello: String }
`;

function unused<T>(what: string): T {
  return new Proxy({}, { get: (_t, prop) => { throw new Error(`the gateway must not use ${what} (touched .${String(prop)})`); } }) as T;
}

let collector: Server;
const exported: string[] = [];
const traceparents: string[] = [];
let sub: Listening;
let gateway: RunningService;

beforeAll(async () => {
  collector = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString('latin1'); });
    req.on('end', () => { if (req.url === '/v1/traces') exported.push(body); res.writeHead(200, { 'content-type': 'application/json' }).end('{}'); });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;

  const log = silentLogger();
  const { app, router } = createHttpApp({ name: 'hello', log });
  const recorder: Middleware = async (ctx, next) => { if (ctx.path === '/graphql') traceparents.push(ctx.get('traceparent')); await next(); };
  app.use(recorder);
  await mountSubgraph<SubgraphContext>(router, { name: 'hello', typeDefs: parse(SDL), key: internalKey(TEST_SECRET), clock: systemClock, log, resolvers: { Query: { hello: () => 'world' } } as never });
  app.use(router.routes());
  sub = await listen(app, 0, '127.0.0.1');
  const composed = composeServices([{ name: 'hello', url: `${sub.url}/graphql`, typeDefs: parse(SDL) }]);
  const deps: Deps = {
    config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', GATEWAY_OTLP_ENDPOINT: endpoint }),
    secrets: { internalSecret: TEST_SECRET, keyPassphrase: TEST_SECRET, cookieKeys: ['k'] },
    internalKey: internalKey(TEST_SECRET), db: unused<Db>('the database'), cache: unused<Cache>('the cache'), clock: systemClock, log,
  };
  gateway = await startGatewayService(deps, { port: 0 }, { supergraphSdl: composed.supergraphSdl!, subgraphUrls: { hello: `${sub.url}/graphql` } });
});

afterAll(async () => {
  await gateway?.close();
  await sub?.close();
  await new Promise((r) => collector?.close(r));
});

test('with GATEWAY_OTLP_ENDPOINT, spans are exported over OTLP/HTTP and the subgraph call carries the trace', async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const res = await fetch(`${gateway.url}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` }, body: JSON.stringify({ query: '{ hello }' }),
  });
  expect(await res.json()).toEqual({ data: { hello: 'world' } });
  expect(traceparents[0]).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  const all = await eventually(async () => (exported.join('').includes('yiwang-gateway') ? exported.join('') : null), 15_000);
  expect(all).toContain('yiwang-gateway');
});
