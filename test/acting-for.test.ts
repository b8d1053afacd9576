/**
 * Acting-for tokens end within seconds (R-ID-8), end to end: the real IdP issues them
 * (`yw_acting_for` at the token endpoint, openid-client), the real gateway serves the identity
 * subgraph, the delegation is revoked / changed / expires through the graph or the clock, and
 * the same still-unexpired access token is then refused with TOKEN_DELEGATION_ENDED — at once
 * for a delegation the gateway has not looked at, after GATEWAY_DELEGATION_CHECK_SECONDS at most
 * for one it has; cascaded sub-delegations too. Tokens that act for nobody are not affected; an
 * unreadable cache refuses acting-for requests (SERVICE_UNAVAILABLE) and nothing else. Last, the
 * guard alone: how often it reads the cache (once per delegation per period, or every time with 0).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { loadConfig } from '../kernel/config.ts';
import { ManualClock, OffsetClock } from '../kernel/clock.ts';
import type { Cache } from '../kernel/cache.ts';
import { writeDelegationMarkers } from '../kernel/delegation-markers.ts';
import { internalKey } from '../kernel/internal-auth.ts';
import { silentLogger } from '../kernel/log.ts';
import type { RunningService } from '../kernel/service.ts';
import { startGatewayService } from '../gateway/service.ts';
import { createDelegationGuard } from '../gateway/delegations.ts';
import { TEST_SECRET, testCache } from './support/infra.ts';
import { newCitizen } from './journey.ts';
import { authorizeInBrowser, CookieJar, discoverClient, loginWithPkce, registerPerson, startTestIdp, type LoginResult, type TestIdp } from './support/oidc.ts';
import { creditCode, insertCompany } from './support/idp/companies.ts';

const GATEWAY = 'http://127.0.0.1:4000/graphql';
const REDIRECT = 'http://127.0.0.1:3000/callback';
const COMPANY = creditCode('91330106MA2E00000');
const ITEM = 'b0f7c1f2-0001-4000-8000-000000000001';
const ITEM_B = 'b0f7c1f2-0002-4000-8000-000000000002';
const CHECK_SECONDS = 2;

let idp: TestIdp;
let gateway: RunningService;
const clock = new OffsetClock();
const people = { rep: newCitizen(), p1: newCitizen(), p2: newCitizen(), p3: newCitizen(), p4: newCitizen() };
type Who = keyof typeof people;
const logins = {} as Record<Who, LoginResult>;

function gatewayConfig(extra: Record<string, string> = {}) {
  return loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', IDP_ISSUER: idp.issuer, GATEWAY_RESOURCE: GATEWAY,
    YIWANG_INTERNAL_SECRET: TEST_SECRET, KEY_PASSPHRASE: TEST_SECRET, IDP_COOKIE_KEYS: 'test-cookie-key',
    IDENTITY_URL: `${idp.issuer}/graphql`, GATEWAY_DELEGATION_CHECK_SECONDS: String(CHECK_SECONDS), ...extra,
  });
}

beforeAll(async () => {
  idp = await startTestIdp({ env: { GATEWAY_RESOURCE: GATEWAY, IDP_PORTAL_REDIRECT_URIS: REDIRECT } });
  // The gateway shares the IdP's cache (the markers) and runs on a clock the test can move.
  gateway = await startGatewayService({ ...idp.deps, config: gatewayConfig(), log: silentLogger(), clock, internalKey: internalKey(TEST_SECRET) }, { port: 0 });
  const ids = {} as Record<Who, string>;
  for (const w of Object.keys(people) as Who[]) {
    ids[w] = (await registerPerson(idp.issuer, people[w])).id;
    logins[w] = await loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, resource: GATEWAY, login: people[w].mobile, password: people[w].password });
  }
  await insertCompany(idp.db, COMPANY, ids.rep, '杭州授权撤销示范有限公司');
});
afterAll(async () => {
  await gateway?.close();
  await idp?.close();
});

async function gql(token: string, query: string, variables: Record<string, unknown> = {}, url = gateway.url) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }),
  });
  const body = await res.json() as { data?: Record<string, any>; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  return { status: res.status, authenticate: res.headers.get('www-authenticate'), code: body.errors?.[0]?.extensions?.code, ...body };
}

const GRANT = 'mutation($i: GrantDelegationInput!) { grantDelegation(input: $i) { id } }';
async function grant(by: Who, to: Who, o: { scope?: string[]; validUntil?: string } = {}): Promise<string> {
  const r = await gql(logins[by].access_token, GRANT, {
    i: { company: COMPANY, granteeIdNumber: people[to].idNumber, granteeName: people[to].name, scope: o.scope ?? [ITEM], validUntil: o.validUntil ?? '2099-01-01T00:00:00Z' },
  });
  expect(r.errors).toBeUndefined();
  return r.data!.grantDelegation.id as string;
}

/** A new access token of `who` acting under `delegationId` (the refresh token rotates). */
async function actingToken(who: Who, delegationId: string): Promise<string> {
  const l = logins[who];
  const refreshed = await client.refreshTokenGrant(l.config, l.refresh_token!, { yw_acting_for: delegationId });
  logins[who] = Object.assign(refreshed, { tokens: refreshed, config: l.config }) as LoginResult;
  return refreshed.access_token;
}

const ACTING = '{ actingFor { delegationId scope } me { id } }';

describe('gateway.acting-for (R-ID-8)', () => {
  test('a revoke ends the token and every token under what was passed on from it; acting for oneself goes on', async () => {
    const level1 = await grant('rep', 'p1');
    const level2 = await grant('p1', 'p2');
    const t1 = await actingToken('p1', level1);
    const t2 = await actingToken('p2', level2);
    expect((await gql(t1, ACTING)).data!.actingFor).toEqual({ delegationId: level1, scope: [ITEM] });

    const revoked = await gql(logins.rep.access_token, 'mutation($id: ID!) { revokeDelegation(id: $id) }', { id: level1 });
    expect(revoked.data!.revokeDelegation).toEqual(expect.arrayContaining([level1, level2]));
    // The passed-on token was not looked at before: refused at once (the cascade marked it too).
    const cascaded = await gql(t2, ACTING);
    expect([cascaded.status, cascaded.code, cascaded.data]).toEqual([401, 'TOKEN_DELEGATION_ENDED', undefined]);
    expect(cascaded.authenticate).toBe('Bearer error="invalid_token"');
    // The token the gateway checked a moment ago: refused once its short check period has passed,
    // well within the token's own ten minutes.
    clock.offsetMs += (CHECK_SECONDS + 1) * 1000;
    const ended = await gql(t1, ACTING);
    expect([ended.status, ended.code]).toEqual([401, 'TOKEN_DELEGATION_ENDED']);
    expect(decodeJwt(t1).exp! * 1000).toBeGreaterThan(clock.now().getTime());
    // The same people acting for themselves are not affected; a new acting-for token is refused at the IdP.
    const own = await client.refreshTokenGrant(logins.p2.config, logins.p2.refresh_token!);
    logins.p2 = Object.assign(own, { tokens: own, config: logins.p2.config }) as LoginResult;
    expect((await gql(own.access_token, ACTING)).data).toEqual({ actingFor: null, me: { id: expect.any(String) } });
    await expect(actingToken('p1', level1)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('the delegation\'s end: the token acts for nobody from then on, though it has not expired', async () => {
    const until = new Date(clock.now().getTime() + 60_000).toISOString();
    const d = await grant('rep', 'p3', { validUntil: until });
    const t = await actingToken('p3', d);
    expect(decodeJwt(t).yw_act).toMatchObject({ delegationId: d, validUntil: until });
    expect((await gql(t, ACTING)).data!.actingFor).toMatchObject({ delegationId: d });
    clock.offsetMs += 61_000;
    expect((await gql(t, ACTING)).code).toBe('TOKEN_DELEGATION_ENDED');
  });

  test('a change of scope makes older tokens stale; a token minted after it works', async () => {
    logins.p1 = await loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, resource: GATEWAY, login: people.p1.mobile, password: people.p1.password });
    const d = await grant('rep', 'p1', { scope: [ITEM] });
    const before = await actingToken('p1', d);
    expect((await gql(before, ACTING)).data!.actingFor.scope).toEqual([ITEM]);
    const changed = await gql(logins.rep.access_token, 'mutation($id: ID!, $i: ChangeDelegationInput!) { changeDelegation(id: $id, input: $i) { scope } }', { id: d, i: { scope: [ITEM, ITEM_B] } });
    expect(changed.data!.changeDelegation.scope).toEqual([ITEM, ITEM_B]);
    const after = await actingToken('p1', d);
    clock.offsetMs += (CHECK_SECONDS + 1) * 1000;
    expect((await gql(before, ACTING)).code).toBe('TOKEN_DELEGATION_ENDED');
    expect((await gql(after, ACTING)).data!.actingFor).toEqual({ delegationId: d, scope: [ITEM, ITEM_B] });
  });

  test('a DPoP-bound acting-for token: the proof and the delegation are both checked on every request', async () => {
    const d = await grant('rep', 'p4');
    // p4's client holds a DPoP key: the login and the acting-for refresh are bound to it.
    const config = await discoverClient(idp.issuer);
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid profile phone', resource: GATEWAY,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const callback = await authorizeInBrowser(new CookieJar(), url, { redirectUri: REDIRECT, login: people.p4.mobile, password: people.p4.password });
    const first = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier }, { resource: GATEWAY }, { DPoP });
    const acting = await client.refreshTokenGrant(config, first.refresh_token!, { yw_acting_for: d }, { DPoP });
    expect(decodeJwt(acting.access_token)).toMatchObject({ cnf: { jkt: expect.any(String) }, yw_act: { delegationId: d } });
    const ask = () => client.fetchProtectedResource(config, acting.access_token, new URL(`${gateway.url}/graphql`), 'POST',
      JSON.stringify({ query: ACTING }), new Headers({ 'content-type': 'application/json' }), { DPoP });
    const ok = await ask();
    expect((await ok.json() as { data: { actingFor: unknown } }).data.actingFor).toEqual({ delegationId: d, scope: [ITEM] });
    // Without its proof the same token is refused, whatever the delegation says.
    const bearer = await gql(acting.access_token, ACTING);
    expect([bearer.status, bearer.code]).toEqual([401, 'TOKEN_DPOP_REQUIRED']);
    // The delegation revoked: refused with a valid proof too.
    await gql(logins.rep.access_token, 'mutation($id: ID!) { revokeDelegation(id: $id) }', { id: d });
    clock.offsetMs += (CHECK_SECONDS + 1) * 1000;
    const ended = await ask().catch((e: unknown) => e as client.WWWAuthenticateChallengeError);
    expect(ended).toBeInstanceOf(client.WWWAuthenticateChallengeError);
    expect((ended as client.WWWAuthenticateChallengeError).response.status).toBe(401);
    expect((ended as client.WWWAuthenticateChallengeError).cause[0]).toMatchObject({ scheme: 'dpop', parameters: { error: 'invalid_token' } });
    expect(await (ended as client.WWWAuthenticateChallengeError).response.json()).toMatchObject({ errors: [{ extensions: { code: 'TOKEN_DELEGATION_ENDED' } }] });
  });

  test('a gateway that cannot read the cache refuses requests with a token (SERVICE_UNAVAILABLE: neither delegation nor revocation can be checked); anonymous ones go on', async () => {
    const d = await grant('rep', 'p3');
    const acting = await actingToken('p3', d);
    const down = await testCache();
    await down.close();
    const cut = await startGatewayService({ ...idp.deps, cache: down, config: gatewayConfig(), log: silentLogger(), clock, internalKey: internalKey(TEST_SECRET) }, { port: 0 });
    try {
      const refused = await gql(acting, ACTING, {}, cut.url);
      expect([refused.status, refused.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
      const own = await gql(logins.rep.access_token, ACTING, {}, cut.url);
      expect([own.status, own.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
      const anonymous = await fetch(`${cut.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
      expect([anonymous.status, await anonymous.json()]).toEqual([200, { data: { __typename: 'Query' } }]);
    } finally {
      await cut.close();
    }
    expect((await gql(acting, ACTING)).data!.actingFor).toMatchObject({ delegationId: d });
  });
});

describe('gateway.delegation-guard', () => {
  /** The test cache, counting the reads the guard makes. */
  async function countingCache(): Promise<Cache & { reads: number }> {
    const cache = await testCache();
    const counted = Object.assign(Object.create(cache) as Cache, { reads: 0 });
    counted.get = async (key: string) => { counted.reads += 1; return cache.get(key); };
    counted.close = () => cache.close();
    return counted;
  }

  test('one read per delegation per check period; 0 reads every time; a marker ends it within the period', async () => {
    const now = new ManualClock('2026-05-01T00:00:00Z');
    const terms = { delegationId: 'd-1', validUntil: Date.parse('2026-06-01T00:00:00Z'), changedAt: Date.parse('2026-04-01T00:00:00Z') };
    const cache = await countingCache();
    try {
      const guard = createDelegationGuard({ cache, checkSeconds: 2 });
      await guard.check(terms, now.now());
      await guard.check(terms, now.now());
      expect(cache.reads).toBe(1);
      await writeDelegationMarkers(cache, [['d-1', { revoked: true }]], 60);
      now.advance(2_000);
      await expect(guard.check(terms, now.now())).rejects.toMatchObject({ code: 'TOKEN_DELEGATION_ENDED', details: { reason: 'revoked' } });
      expect(cache.reads).toBe(2);

      const every = createDelegationGuard({ cache, checkSeconds: 0 });
      const other = { ...terms, delegationId: 'd-2' };
      await every.check(other, now.now());
      await writeDelegationMarkers(cache, [['d-2', { changedAt: other.changedAt + 1 }]], 60);
      await expect(every.check(other, now.now())).rejects.toMatchObject({ code: 'TOKEN_DELEGATION_ENDED', details: { reason: 'changed' } });
      // A token minted after that change carries it and passes; the end passes for nobody.
      await every.check({ ...other, changedAt: other.changedAt + 1 }, now.now());
      await expect(every.check({ ...other, changedAt: other.changedAt + 1, validUntil: now.now().getTime() }, now.now())).rejects.toMatchObject({ details: { reason: 'expired' } });
    } finally {
      await cache.close();
    }
  });
});
