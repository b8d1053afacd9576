/**
 * Revocation reaches the gateway within seconds, end to end: the real IdP issues access tokens to
 * openid-client, the real gateway serves `me` (the identity subgraph), then the token's
 * authorization ends at the IdP — its authorization code is replayed, its refresh token revoked,
 * the person logs out, or an administrator disables the account — and the same unexpired token
 * is refused with TOKEN_REVOKED, at most GATEWAY_REVOCATION_CHECK_SECONDS after the gateway last
 * looked. Tokens of other grants and other accounts go on. Token introspection for resource
 * servers. Last, the guard alone: reads per period, an unreadable cache.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { loadConfig } from '../kernel/config.ts';
import { MemoryCache } from '../kernel/cache.ts';
import { OffsetClock } from '../kernel/clock.ts';
import { isAppError } from '../kernel/errors.ts';
import { internalKey } from '../kernel/internal-auth.ts';
import { silentLogger } from '../kernel/log.ts';
import { grantRef, markGrantRevoked } from '../kernel/revocation-markers.ts';
import type { RunningService } from '../kernel/service.ts';
import { startGatewayService } from '../gateway/service.ts';
import { createRevocationGuard } from '../gateway/revocation.ts';
import { TEST_SECRET } from './support/infra.ts';
import { newCitizen } from './journey.ts';
import {
  adminCall, adminToken, authorizeInBrowser, browserFetch, CookieJar, discoverClient, discoverConfidentialClient, fetchUserInfoFor, loginWithPkce,
  parseForms, registerPerson, startTestIdp, type LoginResult, type TestIdp,
} from './support/oidc.ts';
import { DEMO_ADMIN_PASSWORD } from '../idp/admin/seed.ts';

const GATEWAY = 'http://127.0.0.1:4000/graphql';
const REDIRECT = 'http://127.0.0.1:3000/callback';
const CHECK_SECONDS = 2;

let idp: TestIdp;
let gateway: RunningService;
let admin: string;
const clock = new OffsetClock();
const people = { a: newCitizen(), b: newCitizen(), c: newCitizen(), d: newCitizen() };
const ids = {} as Record<keyof typeof people, string>;

beforeAll(async () => {
  idp = await startTestIdp({ env: { GATEWAY_RESOURCE: GATEWAY, IDP_PORTAL_REDIRECT_URIS: REDIRECT } });
  const config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', IDP_ISSUER: idp.issuer, GATEWAY_RESOURCE: GATEWAY,
    YIWANG_INTERNAL_SECRET: TEST_SECRET, KEY_PASSPHRASE: TEST_SECRET, IDP_COOKIE_KEYS: 'test-cookie-key',
    IDENTITY_URL: `${idp.issuer}/graphql`, GATEWAY_REVOCATION_CHECK_SECONDS: String(CHECK_SECONDS),
  });
  // The gateway shares the IdP's cache (the markers) and runs on a clock the test can move.
  gateway = await startGatewayService({ ...idp.deps, config, log: silentLogger(), clock, internalKey: internalKey(TEST_SECRET) }, { port: 0 });
  for (const w of Object.keys(people) as Array<keyof typeof people>) ids[w] = (await registerPerson(idp.issuer, people[w])).id;
  admin = await adminToken(idp.issuer, 'yw-admin', DEMO_ADMIN_PASSWORD);
});
afterAll(async () => {
  await gateway?.close();
  await idp?.close();
});

async function me(token: string) {
  const res = await fetch(`${gateway.url}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ me { id } }' }),
  });
  const body = await res.json() as { data?: { me?: { id: string } }; errors?: Array<{ extensions?: { code?: string } }> };
  return { status: res.status, code: body.errors?.[0]?.extensions?.code, id: body.data?.me?.id, authenticate: res.headers.get('www-authenticate') };
}

const login = (who: keyof typeof people): Promise<LoginResult> =>
  loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, resource: GATEWAY, login: people[who].mobile, password: people[who].password });

/** Past the gateway's local memory of the markers (the token itself has minutes left). */
function waitOutCheckPeriod(token: string): void {
  clock.offsetMs += (CHECK_SECONDS + 1) * 1000;
  expect(decodeJwt(token).exp! * 1000).toBeGreaterThan(clock.now().getTime());
}

describe('gateway.revocation', () => {
  test('a replayed authorization code: the token from its first redemption stops working', async () => {
    const config = await discoverClient(idp.issuer);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid profile', resource: GATEWAY, state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const callback = await authorizeInBrowser(new CookieJar(), url, { redirectUri: REDIRECT, login: people.a.mobile, password: people.a.password });
    const first = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }, { resource: GATEWAY });
    expect(decodeJwt(first.access_token).yw_grant).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await me(first.access_token)).toMatchObject({ status: 200, id: ids.a });
    // The code is stolen and redeemed again: oidc-provider refuses and revokes the whole grant.
    await expect(client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }, { resource: GATEWAY }))
      .rejects.toMatchObject({ error: 'invalid_grant' });
    waitOutCheckPeriod(first.access_token);
    const after = await me(first.access_token);
    expect([after.status, after.code, after.id]).toEqual([401, 'TOKEN_REVOKED', undefined]);
    expect(after.authenticate).toBe('Bearer error="invalid_token"');
    // The same person's other logins are other grants: not affected.
    expect(await me((await login('a')).access_token)).toMatchObject({ status: 200, id: ids.a });
  });

  test('a revoked grant (the refresh token revoked at the revocation endpoint): refused at once when not looked at before', async () => {
    const l = await login('b');
    const other = await login('b');
    await client.tokenRevocation(l.config, l.refresh_token!);
    // The gateway has never seen this grant: the marker is read on the first request.
    const r = await me(l.access_token);
    expect([r.status, r.code]).toEqual([401, 'TOKEN_REVOKED']);
    expect(await me(other.access_token)).toMatchObject({ status: 200, id: ids.b });
  });

  test('logout (RP-initiated, the grant revoked with the session): the access token stops working', async () => {
    const config = await discoverClient(idp.issuer);
    const jar = new CookieJar();
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid profile', resource: GATEWAY,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const callback = await authorizeInBrowser(jar, url, { redirectUri: REDIRECT, login: people.c.mobile, password: people.c.password });
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier }, { resource: GATEWAY });
    expect(await me(tokens.access_token)).toMatchObject({ status: 200, id: ids.c });
    // The browser logs out at the IdP and confirms.
    const endSession = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token! });
    const page = await browserFetch(jar, endSession);
    const form = parseForms(await page.text()).find((f) => f.action.endsWith('/session/end/confirm'));
    expect(form).toBeDefined();
    const done = await browserFetch(jar, new URL(form!.action, endSession), { form: { ...form!.fields, logout: 'yes' } });
    await done.body?.cancel();
    waitOutCheckPeriod(tokens.access_token);
    expect(await me(tokens.access_token)).toMatchObject({ status: 401, code: 'TOKEN_REVOKED' });
  });

  test('a disabled account: every token issued before the disable is refused', async () => {
    const l = await login('d');
    expect(await me(l.access_token)).toMatchObject({ status: 200, id: ids.d });
    const r = await adminCall(idp.issuer, admin, 'POST', `/admin/accounts/${ids.d}/disable`, { reason: '账户被盗 / account stolen' });
    expect(r.status).toBe(200);
    waitOutCheckPeriod(l.access_token);
    expect(await me(l.access_token)).toMatchObject({ status: 401, code: 'TOKEN_REVOKED' });
    // Everyone else goes on.
    expect(await me((await login('a')).access_token)).toMatchObject({ status: 200, id: ids.a });
  });

  test('the gateway refuses within the check period, not before: a revoke is seen at most GATEWAY_REVOCATION_CHECK_SECONDS late', async () => {
    const l = await login('a');
    expect((await me(l.access_token)).status).toBe(200);
    // A revoke the gateway has not re-read yet (marker written directly: the grant id is the IdP's secret; the ref is enough here).
    const ref = decodeJwt(l.access_token).yw_grant as string;
    await idp.cache.set(`revoked:grant:${ref}`, '1', { ttlSeconds: 60 });
    expect((await me(l.access_token)).status).toBe(200);
    waitOutCheckPeriod(l.access_token);
    expect((await me(l.access_token)).code).toBe('TOKEN_REVOKED');
  });
});

describe('idp.introspection', () => {
  test('a registered resource server introspects tokens; others learn nothing; revoked or disabled is inactive; JWTs are the gateway\'s', async () => {
    const reg = await adminCall(idp.issuer, admin, 'POST', '/admin/clients', { client_name: '资源服务 / RS', redirect_uris: ['https://rs.partner.test/cb'], resource_server: true });
    expect(reg.status).toBe(201);
    const plainPartner = await adminCall(idp.issuer, admin, 'POST', '/admin/clients', { client_name: '普通应用 / RP', redirect_uris: ['https://rp.partner.test/cb'] });
    const rs = await discoverConfidentialClient(idp.issuer, reg.body.client_id, reg.body.client_secret);
    const rp = await discoverConfidentialClient(idp.issuer, plainPartner.body.client_id, plainPartner.body.client_secret);
    expect(rs.serverMetadata().introspection_endpoint).toBe(`${idp.issuer}/token/introspection`);

    const l = await login('b');
    // An opaque token (the UserInfo token the portal gets with a scoped refresh).
    const { refreshed } = await fetchUserInfoFor(l);
    const active = await client.tokenIntrospection(rs, refreshed.access_token);
    expect(active).toMatchObject({ active: true, sub: ids.b, client_id: 'yiwang-portal', token_type: 'Bearer' });
    expect(await client.tokenIntrospection(rp, refreshed.access_token)).toEqual({ active: false });
    // The grant revoked: inactive at once.
    await client.tokenRevocation(l.config, refreshed.refresh_token!);
    expect(await client.tokenIntrospection(rs, refreshed.access_token)).toEqual({ active: false });
    // The graph's JWT access tokens are checked by the gateway (markers), not introspected.
    await expect(client.tokenIntrospection(rs, l.access_token)).rejects.toMatchObject({ error: 'unsupported_token_type' });

    // A disabled account's tokens are inactive.
    const u = newCitizen();
    const id = (await registerPerson(idp.issuer, u)).id;
    const ul = await loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, resource: GATEWAY, login: u.mobile, password: u.password });
    const opaque = (await fetchUserInfoFor(ul)).refreshed.access_token;
    expect((await client.tokenIntrospection(rs, opaque)).active).toBe(true);
    expect((await adminCall(idp.issuer, admin, 'POST', `/admin/accounts/${id}/disable`, { reason: '测试 / test' })).status).toBe(200);
    expect(await client.tokenIntrospection(rs, opaque)).toEqual({ active: false });
  });
});

describe('gateway.revocation.guard', () => {
  const codeOf = async (p: Promise<unknown>) => p.then(() => 'accepted', (e: unknown) => (isAppError(e) ? `${e.code}:${String(e.details?.reason ?? '')}` : String(e)));
  const t0 = new Date('2026-03-01T08:00:00Z');

  test('markers are read once per grant and account per period; 0 reads every time', async () => {
    const cache = new MemoryCache('t:');
    let reads = 0;
    const counting = Object.assign(cache, { get: async (k: string) => { reads++; return MemoryCache.prototype.get.call(cache, k); } });
    const terms = { grant: grantRef('g1'), sub: 'acc-1', issuedAt: t0.getTime() - 1000 };
    const g = createRevocationGuard({ cache: counting, checkSeconds: 2 });
    await g.check(terms, t0);
    await g.check(terms, new Date(t0.getTime() + 1000));
    expect(reads).toBe(2); // one grant, one account
    await markGrantRevoked(cache, 'g1', 60);
    expect(await codeOf(g.check(terms, new Date(t0.getTime() + 1500)))).toBe('accepted'); // still within the period
    expect(await codeOf(g.check(terms, new Date(t0.getTime() + 2500)))).toBe('TOKEN_REVOKED:grant');
    reads = 0;
    const every = createRevocationGuard({ cache: counting, checkSeconds: 0 });
    await codeOf(every.check({ ...terms, grant: undefined }, t0));
    await codeOf(every.check({ ...terms, grant: undefined }, t0));
    expect(reads).toBe(2);
  });

  test('an account marker refuses tokens issued at or before it, not after (re-enabled accounts go on)', async () => {
    const cache = new MemoryCache('t:');
    await cache.set('revoked:account:acc-2', JSON.stringify({ at: t0.getTime() }), { ttlSeconds: 60 });
    const g = createRevocationGuard({ cache, checkSeconds: 0 });
    expect(await codeOf(g.check({ grant: undefined, sub: 'acc-2', issuedAt: t0.getTime() }, t0))).toBe('TOKEN_REVOKED:account');
    expect(await codeOf(g.check({ grant: undefined, sub: 'acc-2', issuedAt: t0.getTime() + 1000 }, t0))).toBe('accepted');
    await cache.set('revoked:account:acc-3', 'garbage', { ttlSeconds: 60 });
    expect(await codeOf(g.check({ grant: undefined, sub: 'acc-3', issuedAt: t0.getTime() + 1000 }, t0))).toBe('TOKEN_REVOKED:account');
  });

  test('an unreadable cache refuses requests with a token (SERVICE_UNAVAILABLE)', async () => {
    const failing = Object.assign(new MemoryCache('t:'), { get: async (): Promise<string | null> => { throw new Error('connection lost'); } });
    const g = createRevocationGuard({ cache: failing, checkSeconds: 2 });
    expect(await codeOf(g.check({ grant: grantRef('g'), sub: 'acc', issuedAt: 0 }, t0))).toBe('SERVICE_UNAVAILABLE:');
  });
});
