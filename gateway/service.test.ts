/**
 * The gateway end to end, with a real token issuer (a JWKS served over HTTP) and two real
 * subgraphs on the shared kernel (mountSubgraph + the HTTP shell) composed into a small supergraph.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { Middleware } from 'koa';
import { loadConfig } from '../kernel/config.ts';
import { systemClock } from '../kernel/clock.ts';
import { AppError } from '../kernel/errors.ts';
import { createHttpApp, listen, type Listening } from '../kernel/http.ts';
import { IDENTITY_HEADER, internalKey, operationHash, requireStaffRole, signIdentity, type Caller } from '../kernel/internal-auth.ts';
import { silentLogger } from '../kernel/log.ts';
import type { Deps, RunningService } from '../kernel/service.ts';
import { mountSubgraph, type SubgraphContext } from '../kernel/subgraph.ts';
import { TEST_SECRET, testCache } from '../test/support/infra.ts';
import type { Cache } from '../kernel/cache.ts';
import type { Db } from '../kernel/db.ts';
import { callSubgraph } from '../test/support/subgraph.ts';
import { startGatewayService } from './service.ts';
import { SERVICE_UNAVAILABLE_MESSAGE } from './upstream.ts';

const RESOURCE = 'http://127.0.0.1:4000/graphql';
const KEY = internalKey(TEST_SECRET);

const ITEM_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { whoami: Who!  thing(id: ID!): Thing }
  type Who { kind: String!  sub: String  name: String  agency: String  roles: [String!]  acr: String }
  type Thing @key(fields: "id") { id: ID!  name: String!  related: Thing }
`;
const CASE_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { decide(agency: String!): String  boom: String }
  type Thing @key(fields: "id") { id: ID!  note: String!  seenBy: String }
`;

interface Received { headers: Record<string, string | string[] | undefined>; body: { query?: string; variables?: Record<string, unknown> }; status: number }

interface TestSubgraph { url: string; received: Received[]; close(): Promise<void> }

async function startSubgraph(name: string, sdl: string, resolvers: Record<string, unknown>): Promise<TestSubgraph> {
  const log = silentLogger();
  const { app, router } = createHttpApp({ name, log });
  const received: Received[] = [];
  const recorder: Middleware = async (ctx, next) => {
    await next();
    if (ctx.path === '/graphql') {
      received.push({ headers: { ...ctx.headers }, body: (ctx.request as unknown as { body: Received['body'] }).body ?? {}, status: ctx.status });
    }
  };
  app.use(recorder);
  const server = await mountSubgraph<SubgraphContext>(router, { name, typeDefs: parse(sdl), resolvers: resolvers as never, key: KEY, clock: systemClock, log });
  app.use(router.routes());
  const l: Listening = await listen(app, 0);
  return { url: l.url, received, close: async () => { await l.close(); await server.stop(); } };
}

const who = (c: Caller) => ({
  kind: c.kind,
  sub: c.kind === 'anonymous' ? null : c.sub,
  name: c.kind === 'anonymous' ? null : c.name,
  agency: c.kind === 'staff' ? c.agency : null,
  roles: c.kind === 'staff' ? c.roles : null,
  acr: c.kind === 'person' ? c.acr ?? null : null,
});

/** The gateway keeps no data: any use of the database fails the test (the cache holds only revocation markers, rate counts and used DPoP proofs). */
function unused<T>(what: string): T {
  return new Proxy({}, { get: (_t, prop) => { throw new Error(`the gateway must not use ${what} (touched .${String(prop)})`); } }) as T;
}

let issuer: Server;
let issuerUrl: string;
let jwksFetches = 0;
let idpKey: CryptoKey;
let strangerKey: CryptoKey;
let item: TestSubgraph;
let kase: TestSubgraph;
let gateway: RunningService;
let composedSdl: string;
let cache: Cache;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  idpKey = pair.privateKey;
  strangerKey = (await generateKeyPair('RS256')).privateKey;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' }] });
  issuer = createServer((req, res) => {
    if (req.url === '/jwks') {
      jwksFetches++;
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(jwks);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => issuer.listen(0, '127.0.0.1', r));
  issuerUrl = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;

  item = await startSubgraph('item', ITEM_SDL, {
    Query: {
      whoami: (_: unknown, __: unknown, { caller }: SubgraphContext) => who(caller),
      thing: (_: unknown, { id }: { id: string }) => ({ id, name: `Thing ${id}` }),
    },
    Thing: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: `Thing ${ref.id}` }),
      related: (t: { id: string }) => ({ id: `${t.id}+`, name: `Thing ${t.id}+` }),
    },
  });
  kase = await startSubgraph('case', CASE_SDL, {
    Query: {
      decide: (_: unknown, { agency }: { agency: string }, { caller }: SubgraphContext) => {
        requireStaffRole(caller, agency, 'decider');
        return 'decided';
      },
      boom: () => { throw new Error('relation "case"."secret_table" does not exist'); },
    },
    Thing: {
      __resolveReference: (ref: { id: string }, { caller }: SubgraphContext) => {
        if (ref.id === 'missing') throw new AppError('NOT_FOUND', '未找到 / not found');
        return { id: ref.id, note: `note for ${ref.id}`, seenBy: caller.kind === 'anonymous' ? null : caller.sub };
      },
    },
  });
  const composed = composeServices([
    { name: 'item', url: 'http://127.0.0.1:1/graphql', typeDefs: parse(ITEM_SDL) },
    { name: 'case', url: 'http://127.0.0.1:1/graphql', typeDefs: parse(CASE_SDL) },
  ]);
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));

  const config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', IDP_ISSUER: issuerUrl, GATEWAY_RESOURCE: RESOURCE,
    YIWANG_INTERNAL_SECRET: TEST_SECRET, KEY_PASSPHRASE: TEST_SECRET, IDP_COOKIE_KEYS: 'test-cookie-key',
    // The supergraph's URLs point nowhere: configuration must win.
    ITEM_URL: `${item.url}/graphql`, CASE_URL: `${kase.url}/graphql`,
  });
  const deps: Deps = {
    config, secrets: { internalSecret: TEST_SECRET, keyPassphrase: TEST_SECRET, cookieKeys: ['test-cookie-key'] },
    internalKey: KEY, db: unused<Db>('the database'), cache: cache = await testCache(), clock: systemClock, log: silentLogger(),
  };
  composedSdl = composed.supergraphSdl;
  gateway = await startGatewayService(deps, { port: 0 }, { supergraphSdl: composedSdl });
});

afterAll(async () => {
  await gateway?.close();
  await cache?.close();
  await item?.close();
  await kase?.close();
  await new Promise((r) => issuer?.close(r));
});

beforeEach(() => {
  item.received.length = 0;
  kase.received.length = 0;
});

const PERSON = { sub: 'acc-person-1', yw_kind: 'person', yw_name: '张三', acr: 'urn:yiwang:loa:3' };
const STAFF = { sub: 'acc-staff-1', yw_kind: 'staff', yw_name: '李四', yw_agency: '11330100MB0000002W', yw_roles: ['acceptor', 'janitor'] };

interface TokenOpts { key?: CryptoKey; iss?: string; aud?: string; exp?: number; typ?: string }

async function token(claims: Record<string, unknown>, o: TokenOpts = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: o.typ ?? 'at+jwt', kid: 'idp-1' })
    .setIssuer(o.iss ?? issuerUrl).setAudience(o.aud ?? RESOURCE)
    .setIssuedAt(now - 60).setExpirationTime(o.exp ?? now + 600).setJti(`jti-${Math.random()}`)
    .sign(o.key ?? idpKey);
}

interface GqlResult { status: number; headers: Headers; body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; path?: unknown; extensions?: Record<string, unknown> }> } }

async function gql(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<GqlResult> {
  const res = await fetch(`${gateway.url}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, headers: res.headers, body: await res.json() as GqlResult['body'] };
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const WHOAMI = '{ whoami { kind sub name agency roles acr } }';

describe('gateway.federation', () => {
  test('an anonymous request reaches the subgraph as anonymous, with the gateway\'s assertion', async () => {
    const r = await gql(WHOAMI);
    expect(r.status).toBe(200);
    expect(r.body.data?.whoami).toEqual({ kind: 'anonymous', sub: null, name: null, agency: null, roles: null, acr: null });
    expect(item.received).toHaveLength(1);
    expect(item.received[0]!.headers[IDENTITY_HEADER]).toEqual(expect.any(String));
  });

  test('a person\'s identity reaches the subgraph; Authorization and cookies stay at the gateway; x-request-id is forwarded', async () => {
    const r = await gql(WHOAMI, {}, { ...bearer(await token(PERSON)), cookie: '_session=abc', 'x-request-id': 'req-gw-test-1' });
    expect(r.status).toBe(200);
    expect(r.body.data?.whoami).toEqual({ kind: 'person', sub: 'acc-person-1', name: '张三', agency: null, roles: null, acr: 'urn:yiwang:loa:3' });
    expect(r.headers.get('x-request-id')).toBe('req-gw-test-1');
    const sent = item.received[0]!.headers;
    expect(sent.authorization).toBeUndefined();
    expect(sent.cookie).toBeUndefined();
    expect(sent['x-request-id']).toBe('req-gw-test-1');
  });

  test('a staff token reaches the subgraph with its agency and known roles only', async () => {
    const r = await gql(WHOAMI, {}, bearer(await token(STAFF)));
    expect(r.body.data?.whoami).toEqual({ kind: 'staff', sub: 'acc-staff-1', name: '李四', agency: '11330100MB0000002W', roles: ['acceptor'], acr: null });
  });

  test('an entity is resolved across two subgraphs through the query plan, each seeing the caller', async () => {
    const r = await gql('query ($id: ID!) { thing(id: $id) { id name note seenBy } }', { id: 't1' }, bearer(await token(PERSON)));
    expect(r.body).toEqual({ data: { thing: { id: 't1', name: 'Thing t1', note: 'note for t1', seenBy: 'acc-person-1' } } });
    expect(item.received).toHaveLength(1);
    expect(kase.received).toHaveLength(1);
    expect(kase.received[0]!.body.query).toContain('_entities');
    expect(kase.received[0]!.headers[IDENTITY_HEADER]).not.toBe(item.received[0]!.headers[IDENTITY_HEADER]);
  });

  test('a subgraph AppError code reaches the client unchanged, without internal details', async () => {
    const asPerson = await gql('{ decide(agency: "11330100MB0000002W") }', {}, bearer(await token(PERSON)));
    expect(asPerson.status).toBe(200);
    expect(asPerson.body.data).toEqual({ decide: null });
    expect(asPerson.body.errors).toEqual([{
      message: 'this action needs the decider role in agency 11330100MB0000002W',
      path: ['decide'], extensions: { code: 'ROLE_REQUIRED' },
    }]);
    const anonymous = await gql('{ decide(agency: "11330100MB0000002W") }');
    expect(anonymous.body.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED' });
    const missing = await gql('{ thing(id: "missing") { id note } }');
    expect(missing.body.errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND' });
  });

  test('an unexpected subgraph failure is INTERNAL and its text stays in the subgraph', async () => {
    const r = await gql('{ boom }');
    expect(r.body.errors?.[0]?.extensions).toEqual({ code: 'INTERNAL' });
    expect(JSON.stringify(r.body)).not.toContain('secret_table');
  });
});

describe('gateway.refusals', () => {
  test.each<[string, string, () => Promise<Record<string, string>>]>([
    ['a token signed by another key', 'TOKEN_INVALID', async () => bearer(await token(PERSON, { key: strangerKey }))],
    ['a token from another issuer', 'TOKEN_ISSUER', async () => bearer(await token(PERSON, { iss: 'https://idp.elsewhere.example' }))],
    ['an expired token', 'TOKEN_EXPIRED', async () => bearer(await token(PERSON, { exp: Math.floor(Date.now() / 1000) - 30 }))],
    ['a token for another resource', 'TOKEN_AUDIENCE', async () => bearer(await token(PERSON, { aud: 'https://other.example/api' }))],
    ['an unsigned token (alg none)', 'TOKEN_INVALID', async () => {
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      return bearer(`${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...PERSON, iss: issuerUrl, aud: RESOURCE, iat: now, exp: now + 600 })}.`);
    }],
    ['an ID token (typ JWT) used as access token', 'TOKEN_INVALID', async () => bearer(await token(PERSON, { typ: 'JWT' }))],
    ['a token naming neither a person nor staff', 'TOKEN_INVALID', async () => bearer(await token({ sub: 'some-client' }))],
    ['a Basic Authorization header', 'TOKEN_INVALID', async () => ({ authorization: 'Basic dXNlcjpwYXNz' })],
    ['"Bearer" without a token', 'TOKEN_INVALID', async () => ({ authorization: 'Bearer ' })],
  ])('%s → 401 %s, nothing forwarded', async (_what, code, headers) => {
    const r = await gql(WHOAMI, {}, await headers());
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(r.body.errors).toEqual([{ message: expect.any(String), extensions: { code } }]);
    expect(r.body.data).toBeUndefined();
    expect(item.received).toHaveLength(0);
    expect(kase.received).toHaveLength(0);
  });

  test('the IdP\'s JWKS was fetched once for all of the above (jose caches it)', () => {
    expect(jwksFetches).toBe(1);
  });
});

describe('gateway.subgraph-guard', () => {
  test('the subgraph accepts a correctly signed assertion (control)', async () => {
    const r = await callSubgraph(item.url, KEY, { kind: 'anonymous' }, WHOAMI);
    expect(r.status).toBe(200);
  });

  test('a direct call without the gateway\'s header is 401 GATEWAY_IDENTITY_REQUIRED', async () => {
    const r = await callSubgraph(item.url, null, { kind: 'anonymous' }, WHOAMI);
    expect(r.status).toBe(401);
    expect(r.problem?.code).toBe('GATEWAY_IDENTITY_REQUIRED');
  });

  test('an assertion made for another operation is 401 GATEWAY_IDENTITY_REQUIRED', async () => {
    const caller: Caller = { kind: 'person', sub: 'acc-person-1', name: '张三' };
    const forOther = await signIdentity(KEY, caller, operationHash('{ thing(id: "t1") { id } }', {}));
    const res = await fetch(`${item.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: forOther }, body: JSON.stringify({ query: WHOAMI, variables: {} }),
    });
    expect(res.status).toBe(401);
    expect((await res.json() as { code: string }).code).toBe('GATEWAY_IDENTITY_REQUIRED');
  });

  test('a captured gateway assertion cannot be replayed with other variables', async () => {
    await gql('query ($id: ID!) { thing(id: $id) { id name } }', { id: 't1' }, bearer(await token(PERSON)));
    const captured = item.received[0]!;
    const replay = (variables: Record<string, unknown>) => fetch(`${item.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: String(captured.headers[IDENTITY_HEADER]) },
      body: JSON.stringify({ query: captured.body.query, variables }),
    });
    expect((await replay(captured.body.variables ?? {})).status).toBe(200); // same operation: bound to it, not refused
    const other = await replay({ ...captured.body.variables, id: 't2' });
    expect(other.status).toBe(401);
    expect((await other.json() as { code: string }).code).toBe('GATEWAY_IDENTITY_REQUIRED');
  });
});

describe('gateway.misconfiguration', () => {
  test('subgraphs refuse a gateway holding another internal secret; the client sees INTERNAL, no details', async () => {
    const other = await startGatewayService({
      config: loadConfig({
        NODE_ENV: 'test', LOG_LEVEL: 'silent', IDP_ISSUER: issuerUrl, GATEWAY_RESOURCE: RESOURCE,
        ITEM_URL: `${item.url}/graphql`, CASE_URL: `${kase.url}/graphql`,
      }),
      secrets: { internalSecret: 'x'.repeat(40), keyPassphrase: TEST_SECRET, cookieKeys: ['k'] },
      internalKey: internalKey('another-secret-that-the-subgraphs-do-not-share'),
      db: unused<Db>('the database'), cache, clock: systemClock, log: silentLogger(),
    }, { port: 0 }, { supergraphSdl: composedSdl });
    try {
      const res = await fetch(`${other.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: WHOAMI }) });
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ data: null, errors: [{ message: SERVICE_UNAVAILABLE_MESSAGE, path: ['whoami'], extensions: { code: 'INTERNAL' } }] });
      expect(text).not.toMatch(/GATEWAY_IDENTITY_REQUIRED|127\.0\.0\.1/);
      expect(item.received[0]?.status).toBe(401); // it did reach the subgraph, which refused it
    } finally {
      await other.close();
    }
  });
});

describe('gateway.limits', () => {
  const nested = (n: number) => `{ thing(id: "x") { ${'related { '.repeat(n)}id${' }'.repeat(n)} } }`;

  test('depth 15 is served, depth 16 is refused before any subgraph is called', async () => {
    expect((await gql(nested(13))).body.errors).toBeUndefined();
    item.received.length = 0;
    const r = await gql(nested(14));
    expect(r.status).toBe(400);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('LIMIT_DEPTH');
    expect(item.received).toHaveLength(0);
  });

  test('a body over 1 MB is 413 BAD_INPUT; malformed JSON is 400 BAD_INPUT', async () => {
    const big = await gql(WHOAMI, { pad: 'x'.repeat(1_100_000) });
    expect(big.status).toBe(413);
    expect(big.body.errors?.[0]?.extensions?.code).toBe('BAD_INPUT');
    const res = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(res.status).toBe(400);
    expect((await res.json() as GqlResult['body']).errors?.[0]?.extensions?.code).toBe('BAD_INPUT');
    expect(item.received).toHaveLength(0);
  });

  test('an unknown field is a validation error, not a subgraph call', async () => {
    const r = await gql('{ nope }');
    expect(r.status).toBe(400);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(item.received).toHaveLength(0);
  });

  test('GET /graphql serves queries (with a CSRF-safe header) and carries the token too', async () => {
    const url = `${gateway.url}/graphql?query=${encodeURIComponent(WHOAMI)}`;
    const res = await fetch(url, { headers: { 'apollo-require-preflight': 'true', ...bearer(await token(PERSON)) } });
    expect(res.status).toBe(200);
    expect(((await res.json() as GqlResult['body']).data?.whoami as { sub: string }).sub).toBe('acc-person-1');
    const refused = await fetch(url, { headers: { 'apollo-require-preflight': 'true', ...bearer(await token(PERSON, { key: strangerKey })) } });
    expect(refused.status).toBe(401);
  });
});

describe('gateway.health', () => {
  test('/healthz reports the supergraph loaded; /healthz/subgraphs pings each subgraph', async () => {
    const h = await fetch(`${gateway.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ service: 'gateway', status: 'ok', checks: { supergraph: 'ok' } });
    const s = await fetch(`${gateway.url}/healthz/subgraphs`);
    expect(s.status).toBe(200);
    expect(await s.json()).toEqual({ service: 'gateway', status: 'ok', checks: { item: 'ok', case: 'ok' } });
  });
});
