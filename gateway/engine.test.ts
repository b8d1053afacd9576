/**
 * The gateway's engine on a small supergraph of two real subgraphs: `item` in this process and
 * `satisfaction` in a child process (so it can be killed or frozen), composed with the MIT
 * composer. Partial results and the subgraph timeout, limits (GraphQL Armor, demand control,
 * trusted documents), authorization written in the schema, and GET /metrics.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { composeServices } from '@theguild/federation-composition';
import { parse, print, type DocumentNode } from 'graphql';
import { pino } from 'pino';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
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
import { TEST_SECRET, testCache } from '../test/support/infra.ts';
import { SATISFACTION_SDL } from '../test/support/satisfaction-subgraph.ts';
import { startGatewayService } from './service.ts';
import { mergeable, SERVICE_UNAVAILABLE_MESSAGE } from './upstream.ts';
import { documentId, type PersistedManifest } from './limits.ts';
import { createEngine, type EngineServerContext } from './engine.ts';

const RESOURCE = 'http://127.0.0.1:4000/graphql';
const KEY = internalKey(TEST_SECRET);
const AGENCY = '11330100MB0000002W';
const COMPANY = '91330106MA2B000022';

const ITEM_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9",
    import: ["@key", "@authenticated", "@requiresScopes", "@policy", "@cost", "@listSize"])
  type Query {
    items(first: Int): [Item!]! @listSize(slicingArguments: ["first"], requireOneSlicingArgument: false)
    everything: [Item!]! @listSize(assumedSize: 5000)
    priced: Int @cost(weight: 3000)
    secret: String @authenticated
    staffNote(agency: String): String @policy(policies: [["agencyStaff"]])
    companyNote(company: String): String @policy(policies: [["actingForCompany"]])
    decisions: String @requiresScopes(scopes: [["role:decider"]])
    whoami: String
  }
  type Mutation { touch: String  touchItem: Item }
  type Item @key(fields: "id") { id: ID!  name: String! }
`;

const ITEMS = [{ id: 'i1', name: '食品经营许可' }, { id: 'i22', name: '药品经营许可' }];

function unused<T>(what: string): T {
  return new Proxy({}, { get: (_t, prop) => { throw new Error(`the gateway must not use ${what} (touched .${String(prop)})`); } }) as T;
}

interface Child { proc: ChildProcess; url: string }

async function startSatisfaction(): Promise<Child> {
  const proc = spawn(join(process.cwd(), 'node_modules/.bin/node'), [join(process.cwd(), 'test/support/satisfaction-subgraph.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`satisfaction subgraph exited (${code})`)));
  });
  return { proc, url };
}

let issuer: Server;
let issuerUrl: string;
let idpKey: CryptoKey;
let item: { url: string; calls: number; headerNames: string[][]; close(): Promise<void> };
let child: Child;
let gateway: RunningService;
let strictGateway: RunningService;
let cache: Cache;
let supergraphSdl: string;
let deps: Deps;
const manifest: PersistedManifest = { format: 'apollo-persisted-query-manifest', version: 1, operations: [] };
const TRUSTED = '{ items { id name } }';

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  idpKey = pair.privateKey;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' }] });
  issuer = createServer((req, res) => { res.writeHead(req.url === '/jwks' ? 200 : 404, { 'content-type': 'application/json' }).end(jwks); });
  await new Promise<void>((r) => issuer.listen(0, '127.0.0.1', r));
  issuerUrl = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;

  const log = silentLogger();
  const { app, router } = createHttpApp({ name: 'item', log });
  const counter: Middleware = async (ctx, next) => {
    if (ctx.path === '/graphql') { item.calls++; item.headerNames.push(Object.keys(ctx.headers)); }
    await next();
  };
  app.use(counter);
  const server = await mountSubgraph<SubgraphContext>(router, {
    name: 'item', typeDefs: parse(ITEM_SDL), key: KEY, clock: systemClock, log,
    resolvers: {
      Query: {
        items: (_: unknown, { first }: { first?: number }) => ITEMS.slice(0, first ?? ITEMS.length),
        everything: () => ITEMS,
        priced: () => 1,
        secret: () => 'secret',
        staffNote: () => 'staff note',
        companyNote: () => 'company note',
        decisions: () => 'decisions',
        // Slow enough that concurrent requests overlap in flight, even on a loaded machine.
        whoami: async (_: unknown, _a: unknown, c: SubgraphContext) => {
          await new Promise((r) => setTimeout(r, 400));
          return c.caller.kind === 'anonymous' ? 'anonymous' : c.caller.sub;
        },
      },
      Mutation: {
        touchItem: () => ITEMS[0],
        touch: async (_: unknown, _a: unknown, c: SubgraphContext) => {
          await new Promise((r) => setTimeout(r, 150));
          return c.caller.kind === 'anonymous' ? 'anonymous' : c.caller.sub;
        },
      },
      Item: { __resolveReference: (ref: { id: string }) => ITEMS.find((i) => i.id === ref.id) },
    } as never,
  });
  app.use(router.routes());
  const l: Listening = await listen(app, 0, '127.0.0.1');
  item = { url: l.url, calls: 0, headerNames: [], close: async () => { await l.close(); await server.stop(); } };
  child = await startSatisfaction();

  const composed = composeServices([
    { name: 'item', url: 'http://127.0.0.1:1/graphql', typeDefs: parse(ITEM_SDL) },
    { name: 'satisfaction', url: 'http://127.0.0.1:1/graphql', typeDefs: parse(SATISFACTION_SDL) },
  ]);
  if (composed.errors?.length) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  supergraphSdl = composed.supergraphSdl!;
  manifest.operations.push({ id: documentId(TRUSTED), name: 'Items', type: 'query', body: TRUSTED });

  cache = await testCache();
  deps = {
    config: loadConfig({
      NODE_ENV: 'test', LOG_LEVEL: 'silent', IDP_ISSUER: issuerUrl, GATEWAY_RESOURCE: RESOURCE,
      YIWANG_INTERNAL_SECRET: TEST_SECRET, KEY_PASSPHRASE: TEST_SECRET, IDP_COOKIE_KEYS: 'k',
    }),
    secrets: { internalSecret: TEST_SECRET, keyPassphrase: TEST_SECRET, cookieKeys: ['k'] },
    internalKey: KEY, db: unused<Db>('the database'), cache, clock: systemClock, log: silentLogger(),
  };
  const urls = { item: `${item.url}/graphql`, satisfaction: `${child.url}/graphql` };
  gateway = await startGatewayService(deps, { port: 0 }, {
    supergraphSdl, subgraphUrls: urls, subgraphTimeoutMs: 700,
    limits: { maxAliases: 10, maxTokens: 400, maxDirectives: 5, maxCost: 2000, listSize: 10, manifest },
  });
  strictGateway = await startGatewayService(deps, { port: 0 }, { supergraphSdl, subgraphUrls: urls, limits: { persistedOnly: true, manifest } });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await strictGateway?.close();
  await item?.close();
  if (child && child.proc.exitCode === null) {
    child.proc.kill('SIGCONT');
    child.proc.kill('SIGKILL');
  }
  await cache?.close();
  await new Promise((r) => issuer?.close(r));
});

interface Body { data?: Record<string, unknown> | null; errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }> }

async function gql(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}, on: RunningService = gateway, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${on.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables, ...extra }) });
  return { status: res.status, body: await res.json() as Body };
}

async function token(claims: Record<string, unknown>): Promise<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000);
  const t = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'idp-1' })
    .setIssuer(issuerUrl).setAudience(RESOURCE).setIssuedAt(now - 10).setExpirationTime(now + 600).setJti(`j${Math.random()}`).sign(idpKey);
  return { authorization: `Bearer ${t}` };
}

const PERSON = { sub: 'p1', yw_kind: 'person', yw_name: '张三' };
const STAFF = (roles: string[]) => ({ sub: 's1', yw_kind: 'staff', yw_name: '李四', yw_agency: AGENCY, yw_roles: roles });

describe('gateway.partial-results', () => {
  const Q = '{ items { id name satisfaction { count } } }';

  test('control: both subgraphs answer', async () => {
    const r = await gql(Q);
    expect(r.body).toEqual({ data: { items: [{ id: 'i1', name: '食品经营许可', satisfaction: { count: 2 } }, { id: 'i22', name: '药品经营许可', satisfaction: { count: 3 } }] } });
  });

  test('a frozen subgraph (SIGSTOP) costs only its fields, within the subgraph timeout', async () => {
    const timeouts = async () => Number(/yiwang_gateway_subgraph_fetch_failures_total\{subgraph="satisfaction",outcome="timeout"\} (\d+)/.exec(await (await fetch(`${gateway.url}/metrics`)).text())?.[1] ?? 0);
    const before = await timeouts();
    child.proc.kill('SIGSTOP');
    try {
      const started = Date.now();
      // Two identical anonymous requests at once: they wait on one fetch, and both get the partial answer.
      const answers = await Promise.all([gql(Q), gql(Q)]);
      expect(Date.now() - started).toBeLessThan(5_000);
      for (const r of answers) {
        expect(r.status).toBe(200);
        expect(r.body.data).toEqual({ items: [{ id: 'i1', name: '食品经营许可', satisfaction: null }, { id: 'i22', name: '药品经营许可', satisfaction: null }] });
        expect(r.body.errors?.length).toBeGreaterThanOrEqual(1);
        for (const e of r.body.errors!) {
          expect(e).toEqual({ message: SERVICE_UNAVAILABLE_MESSAGE, path: expect.arrayContaining(['items']), extensions: { code: 'SERVICE_UNAVAILABLE' } });
          expect(e.path![e.path!.length - 1]).toBe('satisfaction');
        }
      }
      expect(await timeouts() - before).toBe(1);
    } finally {
      child.proc.kill('SIGCONT');
    }
  });

  test('the reads after a mutation are never merged: two identical mutations of one caller each fetch the entity they wrote', async () => {
    const timeouts = async () => Number(/yiwang_gateway_subgraph_fetch_failures_total\{subgraph="satisfaction",outcome="timeout"\} (\d+)/.exec(await (await fetch(`${gateway.url}/metrics`)).text())?.[1] ?? 0);
    const before = await timeouts();
    const p1 = await token({ ...PERSON, sub: 'p1' });
    child.proc.kill('SIGSTOP');
    try {
      // Frozen, so both entity fetches are in flight at once: merged, one timeout would be counted.
      const answers = await Promise.all([p1, p1].map((h) => gql('mutation { touchItem { id satisfaction { count } } }', {}, h)));
      for (const r of answers) expect(r.body.data).toEqual({ touchItem: { id: 'i1', satisfaction: null } });
      expect(await timeouts() - before).toBe(2);
    } finally {
      child.proc.kill('SIGCONT');
    }
  });

  test('a killed subgraph costs only its fields; a query not touching it is unaffected', async () => {
    child.proc.kill('SIGKILL');
    await new Promise((r) => child.proc.once('exit', r));
    const r = await gql(Q);
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ items: [{ id: 'i1', name: '食品经营许可', satisfaction: null }, { id: 'i22', name: '药品经营许可', satisfaction: null }] });
    expect(r.body.errors?.[0]).toEqual({ message: SERVICE_UNAVAILABLE_MESSAGE, path: expect.arrayContaining(['items', 'satisfaction']), extensions: { code: 'SERVICE_UNAVAILABLE' } });
    expect(JSON.stringify(r.body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|satisfaction-subgraph/);
    expect((await gql('{ items { name } }')).body).toEqual({ data: { items: [{ name: '食品经营许可' }, { name: '药品经营许可' }] } });
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/yiwang_gateway_subgraph_fetch_failures_total\{subgraph="satisfaction",outcome="unreachable"\} [1-9]/);
  });

  test('every log line written for a request carries its request id', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'debug' }, { write: (l: string) => { lines.push(JSON.parse(l) as Record<string, unknown>); } });
    const logged = await startGatewayService({ ...deps, log }, { port: 0 }, { supergraphSdl, subgraphUrls: { item: `${item.url}/graphql`, satisfaction: `${child.url}/graphql` } });
    try {
      lines.length = 0;
      await gql(Q, {}, { 'x-request-id': 'req-log-1' }, logged);
      const forRequest = lines.filter((l) => l.msg !== 'OpenTelemetry traces exported over OTLP');
      expect(forRequest.map((l) => l.msg)).toEqual(expect.arrayContaining(['subgraph unreachable', 'http']));
      for (const l of forRequest) expect(l.reqId).toBe('req-log-1');
    } finally {
      await logged.close();
    }
  });
});

describe('gateway.limits', () => {
  const refusedBefore = async (query: string, code: string, headers: Record<string, string> = {}) => {
    const before = item.calls;
    const r = await gql(query, {}, headers);
    expect(r.status).toBe(400);
    expect(r.body.errors?.[0]?.extensions?.code).toBe(code);
    expect(r.body.data).toBeUndefined();
    expect(item.calls).toBe(before);
    return r;
  };

  test('aliases over the limit → LIMIT_ALIASES; a 2,000-alias flood under the body limit is refused at parse time', async () => {
    expect((await gql(`{ ${Array.from({ length: 10 }, (_, i) => `a${i}: items(first: 1) { id }`).join(' ')} }`)).status).toBe(200);
    await refusedBefore(`{ ${Array.from({ length: 20 }, (_, i) => `a${i}: secret`).join(' ')} }`, 'LIMIT_ALIASES');
    const flood = `{ ${Array.from({ length: 2000 }, (_, i) => `alias${i}: items { id name }`).join(' ')} }`;
    expect(flood.length).toBeGreaterThan(50_000);
    await refusedBefore(flood, 'LIMIT_TOKENS');
  });

  test('a document over the token limit → LIMIT_TOKENS', async () => {
    await refusedBefore(`{ items { ${'id '.repeat(500)} } }`, 'LIMIT_TOKENS');
  });

  test('directives over the limit → LIMIT_DIRECTIVES', async () => {
    await refusedBefore(`{ items { id ${'@include(if: true) '.repeat(8)} } }`, 'LIMIT_DIRECTIVES');
  });

  test('over-cost operations → LIMIT_COST before any subgraph fetch; @listSize slicing prices a small page low', async () => {
    expect((await gql('{ items(first: 2) { id } }')).body.errors).toBeUndefined();
    const r = await refusedBefore('{ everything { id name } }', 'LIMIT_COST');
    expect(r.body.errors?.[0]?.message).toMatch(/5000.*2000|cost/i);
    await refusedBefore('{ priced }', 'LIMIT_COST');
  });
});

describe('gateway.trusted-documents', () => {
  test('with the switch on, a document not in the manifest is refused (PERSISTED_QUERY_ONLY) before parsing', async () => {
    const before = item.calls;
    const r = await gql('{ items { id } }', {}, {}, strictGateway);
    expect(r.status).toBe(400);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    expect(item.calls).toBe(before);
    const unknownId = await fetch(`${strictGateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ documentId: `sha256:${'0'.repeat(64)}` }) });
    expect(unknownId.status).toBe(400);
  });

  test('with the switch on, a manifest document is served by id and by its exact text', async () => {
    const byId = await fetch(`${strictGateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ documentId: `sha256:${documentId(TRUSTED)}` }) });
    expect(await byId.json()).toEqual({ data: { items: ITEMS } });
    expect((await gql(TRUSTED, {}, {}, strictGateway)).body).toEqual({ data: { items: ITEMS } });
  });

  test('with the switch off, ids still resolve and other documents are served', async () => {
    const r = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: documentId(TRUSTED) } } }) });
    expect(await r.json()).toEqual({ data: { items: ITEMS } });
  });
});

describe('gateway.schema-authorization', () => {
  test('an anonymous caller on an @authenticated field: null with UNAUTHENTICATED at its path, the rest returned, nothing asked of the subgraph for it', async () => {
    const r = await gql('{ secret items(first: 1) { name } }');
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ secret: null, items: [{ name: '食品经营许可' }] });
    expect(r.body.errors).toEqual([{ message: expect.stringContaining('log in'), path: ['secret'], locations: expect.any(Array), extensions: { code: 'UNAUTHENTICATED' } }]);
    const asPerson = await gql('{ secret }', {}, await token(PERSON));
    expect(asPerson.body).toEqual({ data: { secret: 'secret' } });
  });

  test('@policy agencyStaff: staff of the named agency only', async () => {
    const staff = await token(STAFF(['acceptor']));
    expect((await gql(`{ staffNote(agency: "${AGENCY}") }`, {}, staff)).body).toEqual({ data: { staffNote: 'staff note' } });
    const other = await gql('query ($a: String) { staffNote(agency: $a) }', { a: '91330106MA2B000022' }, staff);
    expect(other.body.data).toEqual({ staffNote: null });
    expect(other.body.errors?.[0]).toMatchObject({ path: ['staffNote'], extensions: { code: 'FORBIDDEN' } });
    const person = await gql(`{ staffNote(agency: "${AGENCY}") }`, {}, await token(PERSON));
    expect(person.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  test('@policy actingForCompany: a person acting for that company', async () => {
    const acting = await token({ ...PERSON, yw_act: { company: COMPANY, scope: ['*'], delegationId: 'd1', validUntil: new Date(Date.now() + 3_600_000).toISOString(), changedAt: 1 } });
    expect((await gql(`{ companyNote(company: "${COMPANY}") }`, {}, acting)).body).toEqual({ data: { companyNote: 'company note' } });
    expect((await gql(`{ companyNote(company: "${COMPANY}") }`, {}, await token(PERSON))).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  test('@requiresScopes: a staff role as scope', async () => {
    expect((await gql('{ decisions }', {}, await token(STAFF(['decider'])))).body).toEqual({ data: { decisions: 'decisions' } });
    const acceptor = await gql('{ decisions items(first: 1) { id } }', {}, await token(STAFF(['acceptor'])));
    expect(acceptor.body.data).toEqual({ decisions: null, items: [{ id: 'i1' }] });
    expect(acceptor.body.errors?.[0]).toMatchObject({ path: ['decisions'], extensions: { code: 'FORBIDDEN' } });
  });
});

describe('gateway.identity-per-caller', () => {
  test('identical operations of different callers in flight at once are fetched apart: each gets the answer for itself', async () => {
    const callers = ['p1', 'p2', 'p3', 'p4'];
    const headers = await Promise.all(callers.map((sub) => token({ ...PERSON, sub })));
    const before = item.calls;
    const answers = await Promise.all([...headers, {}].map((h) => gql('{ whoami }', {}, h)));
    expect(answers.map((a) => a.body)).toEqual([...callers, 'anonymous'].map((whoami) => ({ data: { whoami } })));
    expect(item.calls - before).toBe(callers.length + 1);
  });

  test('identical operations of the SAME caller (or of anonymous callers) in flight at once share one fetch, and each request gets its own copy of the answer', async () => {
    const [p1, p2] = await Promise.all([token({ ...PERSON, sub: 'p1' }), token({ ...PERSON, sub: 'p2' })]);
    const before = item.calls;
    const answers = await Promise.all([p1, p1, p1, p2, p2, {}, {}].map((h) => gql('{ whoami }', {}, h)));
    expect(answers.map((a) => a.body)).toEqual(['p1', 'p1', 'p1', 'p2', 'p2', 'anonymous', 'anonymous'].map((whoami) => ({ data: { whoami } })));
    // One fetch for p1's three requests, one for p2's two, one for the two anonymous ones.
    expect(item.calls - before).toBe(3);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/yiwang_gateway_subgraph_fetches_merged_total\{subgraph="item"\} [1-9]/);
  });

  test('only read-only fetches with nothing per request in their headers may be merged', () => {
    const json = { 'content-type': 'application/json', accept: 'application/json' };
    expect(mergeable(JSON.stringify({ query: '{ whoami }' }), json)).toBe(true);
    expect(mergeable(JSON.stringify({ query: 'query($r:[_Any!]!){_entities(representations:$r){... on Item{id}}}', variables: { r: [] } }), json)).toBe(true);
    expect(mergeable(JSON.stringify({ query: 'mutation { touch }' }), json)).toBe(false);
    expect(mergeable(JSON.stringify({ query: 'subscription { s }' }), json)).toBe(false);
    expect(mergeable(JSON.stringify({ query: 'query A { whoami } mutation B { touch }', operationName: 'B' }), json)).toBe(false);
    expect(mergeable(JSON.stringify({ query: '{ whoami }', variables: { note: 'a mutation in a value' } }), json)).toBe(true);
    expect(mergeable(JSON.stringify({ query: '{ whoami }' }), { ...json, 'accept-language': 'en' })).toBe(false);
    expect(mergeable(JSON.stringify({ variables: {}, query: '{ whoami }' }), json)).toBe(false);
    expect(mergeable(undefined, json)).toBe(false);
  });

  test('the same person at different assurance levels is two callers: their fetches are not merged', async () => {
    const [low, high] = await Promise.all([token({ ...PERSON, sub: 'p7', acr: 'urn:yiwang:loa:2' }), token({ ...PERSON, sub: 'p7', acr: 'urn:yiwang:loa:3' })]);
    const before = item.calls;
    const answers = await Promise.all([low, high].map((h) => gql('{ whoami }', {}, h)));
    expect(answers.map((a) => a.body)).toEqual([{ data: { whoami: 'p7' } }, { data: { whoami: 'p7' } }]);
    expect(item.calls - before).toBe(2);
  });

  test('identical mutations of one caller at once are each sent: only queries are merged', async () => {
    const p1 = await token({ ...PERSON, sub: 'p1' });
    const before = item.calls;
    const answers = await Promise.all([p1, p1].map((h) => gql('mutation { touch }', {}, h)));
    expect(answers.map((a) => a.body)).toEqual([{ data: { touch: 'p1' } }, { data: { touch: 'p1' } }]);
    expect(item.calls - before).toBe(2);
  });

  test('a fetch goes out with the identity assertion and no header of the gateway\'s own bookkeeping', async () => {
    const before = item.calls;
    expect((await gql('{ whoami }', {}, await token({ ...PERSON, sub: 'p9' }))).body).toEqual({ data: { whoami: 'p9' } });
    expect(item.calls - before).toBe(1);
    expect(item.headerNames.at(-1)).toContain('x-yiwang-identity');
    expect(item.headerNames.at(-1)?.filter((h) => h.startsWith('x-yiwang'))).toEqual(['x-yiwang-identity']);
  });
});

describe('gateway.metrics', () => {
  test('GET /metrics serves Prometheus text: requests and latency per operation, subgraph fetch latency', async () => {
    await gql('query ItemNames { items { name } }');
    const res = await fetch(`${gateway.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/graphql_yoga_http_duration_bucket\{[^}]*operationName="ItemNames"/);
    expect(text).toMatch(/graphql_gateway_subgraph_execute_duration_bucket\{[^}]*subgraphName="item"/);
    expect(text).toContain('yiwang_gateway_rate_limited_total');
  });
});

describe('gateway.policies', () => {
  test('a supergraph naming a policy the gateway does not define does not start', async () => {
    const sdl = supergraphSdl.replace('"agencyStaff"', '"somethingElse"');
    await expect(startGatewayService(deps, { port: 0 }, { supergraphSdl: sdl })).rejects.toThrow(/somethingElse/);
  });
});

describe('gateway.subgraph-redirect', () => {
  test('a subgraph answering with a redirect is refused: the identity assertion is never sent to the other address', async () => {
    const hits: string[] = [];
    const elsewhere = createServer((req, res) => { hits.push(String(req.headers['x-yiwang-identity'] ?? 'none')); res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"_entities":[{"satisfaction":{"count":99}}]}}'); });
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
    const target = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/graphql`;
    const redirector = createServer((_req, res) => res.writeHead(307, { location: target }).end());
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    const engine = createEngine({
      supergraphSdl, subgraphs: [{ name: 'item', url: `${item.url}/graphql` }, { name: 'satisfaction', url: `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/graphql` }],
      key: KEY, clock: systemClock, log: silentLogger(), subgraphTimeoutMs: 1000, maxCost: 1000, listSize: 10, introspection: false,
    });
    try {
      const res = await engine.fetch('http://gateway/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ query: '{ items(first: 1) { id satisfaction { count } } }' }) }, { caller: { kind: 'person', sub: 'p1', name: '张三' }, requestId: 'r', scopes: [] });
      const body = await res.json() as Body;
      expect(body.data).toEqual({ items: [{ id: 'i1', satisfaction: null }] });
      expect(body.errors?.[0]?.extensions?.code).toBe('INTERNAL');
      expect(hits).toEqual([]);
    } finally {
      await engine.dispose();
      elsewhere.close();
      redirector.close();
    }
  });
});

describe('gateway.plan-reuse', () => {
  test('an operation executes with one shared document per set of fields authorization removed (so it is planned once), and each caller still gets their own answer', async () => {
    const seen: unknown[] = [];
    const engine = createEngine({
      supergraphSdl, subgraphs: [{ name: 'item', url: `${item.url}/graphql` }, { name: 'satisfaction', url: 'http://127.0.0.1:1/graphql' }],
      key: KEY, clock: systemClock, log: silentLogger(), subgraphTimeoutMs: 1000, maxCost: 1000, listSize: 10, introspection: false,
      plugins: [{ onExecute: ({ args }) => { seen.push(args.document); } }],
    });
    const person = { kind: 'person' as const, sub: 'p1', name: '张三' };
    const run = async (caller: EngineServerContext['caller']) => {
      const res = await engine.fetch('http://gateway/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ query: '{ secret items(first: 1) { id } }' }) }, { caller, requestId: 'r', scopes: [] });
      return await res.json() as Body;
    };
    try {
      expect((await run(person)).data).toEqual({ secret: 'secret', items: [{ id: 'i1' }] });
      expect((await run({ kind: 'anonymous' })).data).toEqual({ secret: null, items: [{ id: 'i1' }] });
      expect((await run(person)).data).toEqual({ secret: 'secret', items: [{ id: 'i1' }] });
      expect((await run({ kind: 'anonymous' })).data).toEqual({ secret: null, items: [{ id: 'i1' }] });
      expect(seen).toHaveLength(4);
      expect(seen[2]).toBe(seen[0]);
      expect(seen[3]).toBe(seen[1]);
      expect(seen[1]).not.toBe(seen[0]);
      expect(print(seen[1] as DocumentNode)).not.toContain('secret');
    } finally {
      await engine.dispose();
    }
  });
});

describe('gateway.introspection', () => {
  test('introspection is answered outside production and refused when switched off (production)', async () => {
    const q = JSON.stringify({ query: '{ __schema { queryType { name } } }' });
    const on = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: q });
    expect(await on.json()).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    const engine = createEngine({
      supergraphSdl, subgraphs: [{ name: 'item', url: `${item.url}/graphql` }, { name: 'satisfaction', url: 'http://127.0.0.1:1/graphql' }],
      key: KEY, clock: systemClock, log: silentLogger(), subgraphTimeoutMs: 1000, maxCost: 1000, listSize: 10, introspection: false,
    });
    try {
      const off = await engine.fetch('http://gateway/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: q }, { caller: { kind: 'anonymous' }, requestId: 'r', scopes: [] });
      const body = await off.json() as Body;
      expect(body.data).toBeUndefined();
      expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    } finally {
      await engine.dispose();
    }
  });
});
