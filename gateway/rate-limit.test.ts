/**
 * Rate limits at the gateway, end to end: two real gateways share one Redis (and trust a proxy,
 * so each test speaks from its own address with X-Forwarded-For); tokens come from the real IdP
 * through openid-client. Per address (anonymous too), per account, per client application, each
 * answered with 429 GRAPH_RATE_LIMITED and Retry-After; the counts are shared between the two
 * processes and exact under concurrency (one atomic step per count); a new window starts afresh;
 * the refusals are counted for the metrics endpoint. Then the limiter alone: a cache failure lets
 * requests through and is counted.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../kernel/config.ts';
import { MemoryCache, openCache, type Cache } from '../kernel/cache.ts';
import { ManualClock, OffsetClock } from '../kernel/clock.ts';
import { internalKey } from '../kernel/internal-auth.ts';
import { silentLogger } from '../kernel/log.ts';
import type { RunningService } from '../kernel/service.ts';
import { startGatewayService } from './service.ts';
import { createRateLimiter, rateLimitCounts } from './rate-limit.ts';
import { TEST_SECRET } from '../test/support/infra.ts';
import { newCitizen } from '../test/journey.ts';
import { loginWithPkce, registerPerson, startTestIdp, type TestIdp } from '../test/support/oidc.ts';

const GATEWAY = 'http://127.0.0.1:4000/graphql';
const REDIRECT = 'http://127.0.0.1:3000/callback';
const WINDOW = 60;
const PER_IP = 20;
const PER_ACCOUNT = 6;
const PER_CLIENT = 10;

let idp: TestIdp;
let gwA: RunningService;
let gwB: RunningService;
let cacheB: Cache;
const clock = new OffsetClock();
const people = [newCitizen(), newCitizen(), newCitizen()];
const tokens: string[] = [];

beforeAll(async () => {
  idp = await startTestIdp({ env: { GATEWAY_RESOURCE: GATEWAY, IDP_PORTAL_REDIRECT_URIS: REDIRECT } });
  const config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', IDP_ISSUER: idp.issuer, GATEWAY_RESOURCE: GATEWAY,
    YIWANG_INTERNAL_SECRET: TEST_SECRET, KEY_PASSPHRASE: TEST_SECRET, IDP_COOKIE_KEYS: 'test-cookie-key',
    IDENTITY_URL: `${idp.issuer}/graphql`, TRUST_PROXY: 'true',
    GATEWAY_RATE_LIMIT_WINDOW_SECONDS: String(WINDOW), GATEWAY_RATE_LIMIT_PER_IP: String(PER_IP),
    GATEWAY_RATE_LIMIT_PER_ACCOUNT: String(PER_ACCOUNT), GATEWAY_RATE_LIMIT_PER_CLIENT: String(PER_CLIENT),
  });
  const base = { ...idp.deps, config, log: silentLogger(), clock, internalKey: internalKey(TEST_SECRET) };
  gwA = await startGatewayService(base, { port: 0 });
  cacheB = await openCache({ url: process.env.REDIS_URL, prefix: idp.cache.prefix });
  gwB = await startGatewayService({ ...base, cache: cacheB }, { port: 0 });
  for (const p of people) {
    await registerPerson(idp.issuer, p);
    tokens.push((await loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, resource: GATEWAY, login: p.mobile, password: p.password })).access_token);
  }
});
afterAll(async () => {
  await gwB?.close();
  await gwA?.close();
  await cacheB?.close();
  await idp?.close();
});

/** Start of a fresh window on the gateways' clock, so counts of one test never spill into another. */
function freshWindow(): void {
  const now = clock.now().getTime();
  clock.offsetMs += (Math.floor(now / (WINDOW * 1000)) + 1) * WINDOW * 1000 - now + 10;
}

let addressSeq = 0;
const newAddress = () => `198.51.100.${++addressSeq}`;

async function call(gw: RunningService, o: { ip: string; token?: string }) {
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': o.ip, ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  const body = await res.json() as { errors?: Array<{ extensions?: { code?: string; scope?: string; retryAfter?: number } }> };
  return { status: res.status, code: body.errors?.[0]?.extensions?.code, scope: body.errors?.[0]?.extensions?.scope, retryAfter: res.headers.get('retry-after') };
}

describe('gateway.rate-limit', () => {
  test('per address, anonymous, shared by two gateway processes: the request over the limit gets 429 and Retry-After', async () => {
    freshWindow();
    const ip = newAddress();
    const before = rateLimitCounts().refused.ip;
    for (let i = 0; i < PER_IP; i++) expect((await call(i % 2 ? gwB : gwA, { ip })).status).toBe(200);
    const over = await call(gwA, { ip });
    expect([over.status, over.code, over.scope]).toEqual([429, 'GRAPH_RATE_LIMITED', 'ip']);
    expect(Number(over.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(over.retryAfter)).toBeLessThanOrEqual(WINDOW);
    expect((await call(gwB, { ip })).status).toBe(429);
    // Another address is not affected; the next window starts afresh.
    expect((await call(gwA, { ip: newAddress() })).status).toBe(200);
    freshWindow();
    expect((await call(gwB, { ip })).status).toBe(200);
    expect(rateLimitCounts().refused.ip - before).toBe(2);
  });

  test('per account, whatever the address', async () => {
    freshWindow();
    for (let i = 0; i < PER_ACCOUNT; i++) expect((await call(i % 2 ? gwB : gwA, { ip: newAddress(), token: tokens[0] })).status).toBe(200);
    const over = await call(gwA, { ip: newAddress(), token: tokens[0] });
    expect([over.status, over.code, over.scope]).toEqual([429, 'GRAPH_RATE_LIMITED', 'account']);
    expect((await call(gwA, { ip: newAddress(), token: tokens[1] })).status).toBe(200);
  });

  test('per client application: all its users together', async () => {
    freshWindow();
    const statuses: number[] = [];
    // 5 + 5 requests by two people of the portal fill the client's 10; a third person is refused.
    for (let i = 0; i < 5; i++) statuses.push((await call(gwA, { ip: newAddress(), token: tokens[1] })).status, (await call(gwB, { ip: newAddress(), token: tokens[2] })).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const over = await call(gwB, { ip: newAddress(), token: tokens[0] });
    expect([over.status, over.code, over.scope]).toEqual([429, 'GRAPH_RATE_LIMITED', 'client']);
  });

  test('exact under concurrency across both processes (one atomic count per request)', async () => {
    freshWindow();
    const ip = newAddress();
    const results = await Promise.all(Array.from({ length: 3 * PER_IP }, (_, i) => call(i % 2 ? gwB : gwA, { ip })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(PER_IP);
    expect(results.filter((r) => r.status === 429)).toHaveLength(2 * PER_IP);
  });

  test('a counter expires with its window (no key is left behind without a TTL)', async () => {
    freshWindow();
    const ip = newAddress();
    await call(gwA, { ip });
    const { rateLimitKey } = await import('./rate-limit.ts');
    const key = rateLimitKey('ip', ip, Math.floor(clock.now().getTime() / (WINDOW * 1000)));
    const ttl = await idp.cache.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(WINDOW);
  });
});

describe('gateway.rate-limit.limiter', () => {
  test('a cache failure lets the request through and is counted', async () => {
    const failing = Object.assign(new MemoryCache('t:'), { incr: async (): Promise<number> => { throw new Error('connection lost'); } });
    const limiter = createRateLimiter({ cache: failing, clock: new ManualClock(), limits: { windowSeconds: 60, perIp: 1, perAccount: 1, perClient: 1 } });
    let passed = 0;
    const ctx = { ip: randomUUID(), state: {} } as unknown as Parameters<typeof limiter.byAddress>[0];
    for (let i = 0; i < 3; i++) await limiter.byAddress(ctx, async () => { passed++; });
    expect(passed).toBe(3);
    expect(limiter.counts().errors).toBe(3);
  });

  test('a limit of 0 switches its scope off (no count at all)', async () => {
    const cache = new MemoryCache('t:');
    let counted = 0;
    const spy = Object.assign(cache, { incr: async (k: string, t: number) => { counted++; return MemoryCache.prototype.incr.call(cache, k, t); } });
    const limiter = createRateLimiter({ cache: spy, clock: new ManualClock(), limits: { windowSeconds: 60, perIp: 0, perAccount: 0, perClient: 0 } });
    const ctx = { ip: '203.0.113.9', state: {} } as unknown as Parameters<typeof limiter.byAddress>[0];
    let passed = 0;
    for (let i = 0; i < 5; i++) await limiter.byAddress(ctx, async () => { passed++; });
    expect([passed, counted]).toEqual([5, 0]);
  });
});
