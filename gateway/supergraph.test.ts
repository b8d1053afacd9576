/**
 * The gateway on the real committed schema/supergraph.graphql with every subgraph and the IdP
 * unreachable: it must start, answer /healthz, and turn failed subgraph calls into a clean error.
 * Also proves that the gateway makes no outbound connection of its own (no Apollo telemetry,
 * usage or schema reporting) even when Apollo's variables are set in the environment.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import net from 'node:net';
import { generateKeyPair, SignJWT } from 'jose';
import type { Cache } from '../kernel/cache.ts';
import { loadConfig, type Config } from '../kernel/config.ts';
import { systemClock } from '../kernel/clock.ts';
import type { Db } from '../kernel/db.ts';
import { internalKey } from '../kernel/internal-auth.ts';
import { silentLogger } from '../kernel/log.ts';
import type { Deps, RunningService } from '../kernel/service.ts';
import { freePort, TEST_SECRET } from '../test/support/infra.ts';
import { startGatewayService } from './service.ts';
import { SERVICE_UNAVAILABLE_MESSAGE } from './upstream.ts';

function unused<T>(what: string): T {
  return new Proxy({}, { get: (_t, prop) => { throw new Error(`the gateway must not use ${what} (touched .${String(prop)})`); } }) as T;
}

/** Every TCP connection this process opens while `fn` runs (host:port as asked for, before DNS). */
async function connectionsDuring(fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const proto = net.Socket.prototype as unknown as { connect: (...args: unknown[]) => unknown };
  const original = proto.connect;
  proto.connect = function (this: unknown, ...args: unknown[]) {
    let a = args[0];
    if (Array.isArray(a)) a = a[0]; // Node's internal normalized form
    if (typeof a === 'object' && a !== null) {
      const o = a as { host?: string; port?: number; path?: string };
      seen.push(o.path ?? `${o.host ?? 'localhost'}:${o.port}`);
    } else seen.push(`${String(args[1] ?? 'localhost')}:${String(a)}`);
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto.connect = original;
  }
  return seen;
}

let config: Config;
let deps: Deps;
let downPorts: number[];

beforeAll(async () => {
  downPorts = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const [idp, itemP, caseP, licenceP, evaluationP] = downPorts as [number, number, number, number, number];
  config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', YIWANG_INTERNAL_SECRET: TEST_SECRET, KEY_PASSPHRASE: TEST_SECRET, IDP_COOKIE_KEYS: 'k',
    IDP_ISSUER: `http://127.0.0.1:${idp}`,
    ITEM_URL: `http://127.0.0.1:${itemP}/graphql`, CASE_URL: `http://127.0.0.1:${caseP}/graphql`,
    LICENCE_URL: `http://127.0.0.1:${licenceP}/graphql`, EVALUATION_URL: `http://127.0.0.1:${evaluationP}/graphql`,
    // The identity subgraph is served by the IdP (down too).
    IDENTITY_URL: `http://127.0.0.1:${idp}/graphql`,
  });
  deps = {
    config, secrets: { internalSecret: TEST_SECRET, keyPassphrase: TEST_SECRET, cookieKeys: ['k'] }, internalKey: internalKey(TEST_SECRET),
    db: unused<Db>('the database'), cache: unused<Cache>('the cache'), clock: systemClock, log: silentLogger(),
  };
});

describe('gateway.supergraph', () => {
  let gateway: RunningService;
  beforeAll(async () => { gateway = await startGatewayService(deps, { port: 0 }); });
  afterAll(async () => { await gateway?.close(); });

  const post = async (query: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };

  test('starts on the committed supergraph with every subgraph down; /healthz is ok', async () => {
    const res = await fetch(`${gateway.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', checks: { supergraph: 'ok' } });
  });

  test('serves the composed graph: Case carries fields contributed by case, licence and evaluation', async () => {
    const r = await post('{ __type(name: "Case") { fields { name } } }');
    const names = (JSON.parse(r.text) as { data: { __type: { fields: Array<{ name: string }> } } }).data.__type.fields.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['caseNumber', 'licences', 'evaluation']));
  });

  test('a query while the subgraph is down gets a clean SERVICE_UNAVAILABLE error, then the gateway still serves', async () => {
    const r = await post('{ items { id name } }');
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text) as { data: unknown; errors: Array<{ message: string; extensions: Record<string, unknown> }> };
    expect(body.data).toBeNull();
    expect(body.errors).toEqual([{ message: SERVICE_UNAVAILABLE_MESSAGE, path: ['items'], extensions: { code: 'SERVICE_UNAVAILABLE' } }]);
    // No subgraph address, port or socket error leaks to the client.
    expect(r.text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|serviceName/);
    const again = await post('{ agencies { code } myLicences { id } }');
    expect(again.status).toBe(200);
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
  });

  test('@authenticated and @policy in the committed schema are enforced before planning: no subgraph is asked', async () => {
    const r = JSON.parse((await post('{ myCases { id } myLicences { id } }')).text) as { data: unknown; errors: Array<{ path: string[]; extensions: { code: string } }> };
    expect(r.data).toEqual({ myCases: null, myLicences: null });
    expect(r.errors.map((e) => [e.path, e.extensions.code])).toEqual(expect.arrayContaining([[['myCases'], 'UNAUTHENTICATED'], [['myLicences'], 'UNAUTHENTICATED']]));
  });

  test('/healthz/subgraphs reports every subgraph down', async () => {
    const res = await fetch(`${gateway.url}/healthz/subgraphs`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ service: 'gateway', status: 'degraded', checks: { item: 'fail', case: 'fail', licence: 'fail', evaluation: 'fail', identity: 'fail' } });
  });

  test('a token while the IdP\'s JWKS is unreachable is 503 SERVICE_UNAVAILABLE, not a token error', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ yw_kind: 'person', yw_name: '张三' }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' })
      .setSubject('p1').setIssuer(config.IDP_ISSUER).setAudience(config.GATEWAY_RESOURCE).setIssuedAt(now).setExpirationTime(now + 600).sign(privateKey);
    const r = await post('{ items { id } }', { authorization: `Bearer ${token}` });
    expect(r.status).toBe(503);
    expect(r.headers.get('www-authenticate')).toBeNull();
    expect(JSON.parse(r.text)).toEqual({ errors: [{ message: expect.stringContaining('unavailable'), extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
  });
});

describe('gateway.no-outbound', () => {
  test('the gateway module disables Apollo telemetry, and does so before any ApolloGateway exists', () => {
    expect(process.env.APOLLO_TELEMETRY_DISABLED).toBe('1');
  });

  test('even with APOLLO_KEY / APOLLO_GRAPH_REF set, start + query + stop connects only to configured local addresses', async () => {
    const saved = { key: process.env.APOLLO_KEY, ref: process.env.APOLLO_GRAPH_REF, sr: process.env.APOLLO_SCHEMA_REPORTING };
    process.env.APOLLO_KEY = 'service:not-a-real-graph:0000000000000000000000';
    process.env.APOLLO_GRAPH_REF = 'not-a-real-graph@current';
    let gatewayPort = -1;
    try {
      const seen = await connectionsDuring(async () => {
        const gw = await startGatewayService(deps, { port: 0 });
        gatewayPort = Number(new URL(gw.url).port);
        await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ items { id } }' }) });
        await fetch(`${gw.url}/healthz`);
        await gw.close();
      });
      const allowed = new Set([...downPorts, gatewayPort].map((p) => `127.0.0.1:${p}`));
      expect(seen.length).toBeGreaterThan(0); // the monitor works: the test's own requests and the subgraph call were seen
      expect(seen.filter((s) => !allowed.has(s))).toEqual([]);
    } finally {
      for (const [k, v] of [['APOLLO_KEY', saved.key], ['APOLLO_GRAPH_REF', saved.ref], ['APOLLO_SCHEMA_REPORTING', saved.sr]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
