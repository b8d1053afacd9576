/**
 * DPoP at the gateway (RFC 9449), end to end: openid-client obtains a DPoP-bound access token
 * from the real IdP (authorization code + PKCE with a DPoP key), two real gateways share one
 * Redis, and every way a proof can be wrong is refused with 401, the right code and the right
 * `WWW-Authenticate: DPoP error=...`: no proof, a bound token as Bearer, a proof for another URL
 * or method or token, another key, a stale iat, a replay (on the same gateway and on the other
 * one), an unsigned or MAC-signed proof; and the server-nonce flow (required, then answered by
 * openid-client's own retry). Then the checker alone on a manual clock: windows, nonce expiry,
 * the replay memory's life, an unreadable cache.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { randomUUID, createSecretKey, randomBytes } from 'node:crypto';

type CryptoKeyPair = { privateKey: CryptoKey; publicKey: CryptoKey };
import { loadConfig } from '../kernel/config.ts';
import { MemoryCache, openCache, type Cache } from '../kernel/cache.ts';
import { ManualClock } from '../kernel/clock.ts';
import { internalKey } from '../kernel/internal-auth.ts';
import { silentLogger } from '../kernel/log.ts';
import { isAppError } from '../kernel/errors.ts';
import type { RunningService } from '../kernel/service.ts';
import { startGatewayService } from './service.ts';
import { accessTokenHash, createDpopChecker, jwkThumbprint, type DpopChecker } from './dpop.ts';
import { TEST_SECRET } from '../test/support/infra.ts';
import { newCitizen } from '../test/journey.ts';
import { authorizeInBrowser, CookieJar, discoverClient, loginWithPkce, registerPerson, startTestIdp, type TestIdp } from '../test/support/oidc.ts';

const GATEWAY = 'http://127.0.0.1:4000/graphql';
const REDIRECT = 'http://127.0.0.1:3000/callback';
const ME = JSON.stringify({ query: '{ me { id } }' });

let idp: TestIdp;
let gwA: RunningService;
let gwB: RunningService;
let gwNonce: RunningService;
let cacheB: Cache;
let accountId: string;
const person = newCitizen();

/** What openid-client holds after a DPoP login. */
let rp: client.Configuration;
let keyPair: CryptoKeyPair;
let DPoP: client.DPoPHandle;
let bound: string;
let plain: string;

function gatewayConfig(extra: Record<string, string> = {}) {
  return loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', IDP_ISSUER: idp.issuer, GATEWAY_RESOURCE: GATEWAY,
    YIWANG_INTERNAL_SECRET: TEST_SECRET, KEY_PASSPHRASE: TEST_SECRET, IDP_COOKIE_KEYS: 'test-cookie-key',
    IDENTITY_URL: `${idp.issuer}/graphql`, ...extra,
  });
}

beforeAll(async () => {
  idp = await startTestIdp({ env: { GATEWAY_RESOURCE: GATEWAY, IDP_PORTAL_REDIRECT_URIS: REDIRECT } });
  const base = { ...idp.deps, log: silentLogger(), internalKey: internalKey(TEST_SECRET) };
  gwA = await startGatewayService({ ...base, config: gatewayConfig() }, { port: 0 });
  // A second gateway process: its own Redis connection, the same key space.
  cacheB = await openCache({ url: process.env.REDIS_URL, prefix: idp.cache.prefix });
  gwB = await startGatewayService({ ...base, cache: cacheB, config: gatewayConfig() }, { port: 0 });
  gwNonce = await startGatewayService({ ...base, config: gatewayConfig({ GATEWAY_DPOP_REQUIRE_NONCE: 'true' }) }, { port: 0 });

  accountId = (await registerPerson(idp.issuer, person)).id;
  // The relying party: openid-client with a DPoP key, authorization code + PKCE, resource = the graph.
  rp = await discoverClient(idp.issuer);
  keyPair = await client.randomDPoPKeyPair('ES256');
  DPoP = client.getDPoPHandle(rp, keyPair);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT, scope: 'openid profile phone', resource: GATEWAY, state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const callback = await authorizeInBrowser(new CookieJar(), url, { redirectUri: REDIRECT, login: person.mobile, password: person.password });
  const tokens = await client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state }, { resource: GATEWAY }, { DPoP });
  expect(tokens.token_type).toBe('dpop');
  bound = tokens.access_token;
  plain = (await loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, resource: GATEWAY, login: person.mobile, password: person.password })).access_token;
});
afterAll(async () => {
  await gwNonce?.close();
  await gwB?.close();
  await gwA?.close();
  await cacheB?.close();
  await idp?.close();
});

interface ProofClaims { htm?: string; htu?: string; iat?: number; jti?: string; ath?: string; nonce?: string }

/** A proof made by hand with the client's key (or another), for the requests openid-client would never send. */
async function proof(o: ProofClaims & { key?: CryptoKeyPair; alg?: string; typ?: string } = {}, url = `${gwA.url}/graphql`): Promise<string> {
  const key = o.key ?? keyPair;
  const jwk = await exportJWK(key.publicKey as CryptoKey);
  return new SignJWT({
    htm: o.htm ?? 'POST', htu: o.htu ?? url, jti: o.jti ?? randomUUID(), ath: o.ath ?? accessTokenHash(bound),
    ...(o.nonce ? { nonce: o.nonce } : {}),
  }).setProtectedHeader({ alg: o.alg ?? 'ES256', typ: o.typ ?? 'dpop+jwt', jwk })
    .setIssuedAt(o.iat ?? Math.floor(Date.now() / 1000))
    .sign(key.privateKey as CryptoKey);
}

async function call(gw: RunningService, o: { scheme?: string; token?: string; dpop?: string; method?: string; path?: string } = {}) {
  const method = o.method ?? 'POST';
  const res = await fetch(`${gw.url}${o.path ?? '/graphql'}${method === 'GET' ? `?query=${encodeURIComponent('{ me { id } }')}` : ''}`, {
    method,
    headers: {
      'content-type': 'application/json', 'apollo-require-preflight': 'true',
      authorization: `${o.scheme ?? 'DPoP'} ${o.token ?? bound}`, ...(o.dpop ? { dpop: o.dpop } : {}),
    },
    ...(method === 'POST' ? { body: ME } : {}),
  });
  const body = await res.json() as { data?: { me?: { id: string } }; errors?: Array<{ extensions?: { code?: string } }> };
  return {
    status: res.status, code: body.errors?.[0]?.extensions?.code, me: body.data?.me?.id,
    authenticate: res.headers.get('www-authenticate') ?? '', nonce: res.headers.get('dpop-nonce'),
  };
}

describe('gateway.dpop', () => {
  test('the IdP binds the token to the client\'s key (cnf.jkt), and openid-client\'s DPoP requests are served', async () => {
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey as CryptoKey));
    expect(decodeJwt(bound).cnf).toEqual({ jkt });
    const res = await client.fetchProtectedResource(rp, bound, new URL(`${gwA.url}/graphql`), 'POST', ME, new Headers({ 'content-type': 'application/json' }), { DPoP });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { me: { id: accountId } } });
    // A hand-made proof for the same request: accepted, and the next nonce is offered.
    const ok = await call(gwA, { dpop: await proof() });
    expect([ok.status, ok.me]).toEqual([200, accountId]);
    expect(ok.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test('a bound token without a proof, or sent as Bearer, is refused', async () => {
    const none = await call(gwA);
    expect([none.status, none.code]).toEqual([401, 'DPOP_PROOF_INVALID']);
    expect(none.authenticate).toMatch(/^DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="[^"]*ES256/);
    const asBearer = await call(gwA, { scheme: 'Bearer', dpop: await proof() });
    expect([asBearer.status, asBearer.code]).toEqual([401, 'TOKEN_DPOP_REQUIRED']);
    expect(asBearer.authenticate).toMatch(/^DPoP error="invalid_token"/);
  });

  test.each<[string, () => Promise<string>]>([
    ['a proof for another URL', () => proof({ htu: `${gwA.url}/healthz` })],
    ['a proof for another host', () => proof({ htu: 'https://graph.example.com/graphql' })],
    ['a proof for another method', () => proof({ htm: 'GET' })],
    ['a proof for another token', () => proof({ ath: accessTokenHash(plain) })],
    ['a proof signed by another key', async () => proof({ key: await generateKeyPair('ES256') as CryptoKeyPair })],
    ['a proof with typ JWT', () => proof({ typ: 'JWT' })],
    ['a proof without the typ', async () => {
      const jwk = await exportJWK(keyPair.publicKey as CryptoKey);
      return new SignJWT({ htm: 'POST', htu: `${gwA.url}/graphql`, jti: randomUUID(), ath: accessTokenHash(bound) })
        .setProtectedHeader({ alg: 'ES256', jwk }).setIssuedAt().sign(keyPair.privateKey as CryptoKey);
    }],
    ['an unsigned proof (alg none)', async () => {
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const jwk = await exportJWK(keyPair.publicKey as CryptoKey);
      return `${b64({ alg: 'none', typ: 'dpop+jwt', jwk })}.${b64({ htm: 'POST', htu: `${gwA.url}/graphql`, jti: randomUUID(), ath: accessTokenHash(bound), iat: Math.floor(Date.now() / 1000) })}.`;
    }],
    ['a MAC-signed proof (HS256 with an embedded symmetric key)', async () => {
      const secret = randomBytes(32);
      const jwk: JWK = { kty: 'oct', k: secret.toString('base64url') };
      return new SignJWT({ htm: 'POST', htu: `${gwA.url}/graphql`, jti: randomUUID(), ath: accessTokenHash(bound) })
        .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk }).setIssuedAt().sign(createSecretKey(secret));
    }],
    ['not a JWT at all', async () => 'not-a-proof'],
  ])('%s is invalid_dpop_proof', async (_what, make) => {
    const r = await call(gwA, { dpop: await make() });
    expect([r.status, r.code, r.me]).toEqual([401, 'DPOP_PROOF_INVALID', undefined]);
    expect(r.authenticate).toMatch(/^DPoP error="invalid_dpop_proof"/);
  });

  test('two DPoP headers (RFC 9449 §4.3: exactly one) are refused, even when both proofs are valid', async () => {
    const headers = new Headers({ 'content-type': 'application/json', authorization: `DPoP ${bound}` });
    headers.append('dpop', await proof());
    headers.append('dpop', await proof());
    const res = await fetch(`${gwA.url}/graphql`, { method: 'POST', headers, body: ME });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('DPOP_PROOF_INVALID');
  });

  test('htu ignores the query string; the scheme and host compare as URLs', async () => {
    const u = new URL(`${gwA.url}/graphql`);
    const r = await call(gwA, { dpop: await proof({ htu: `${u.protocol}//${u.host.toUpperCase()}/graphql?ignored=1#frag` }) });
    expect([r.status, r.me]).toEqual([200, accountId]);
    const get = await call(gwA, { method: 'GET', dpop: await proof({ htm: 'GET' }) });
    expect([get.status, get.me]).toEqual([200, accountId]);
  });

  test('a replayed proof is refused, on the same gateway and on another process sharing Redis', async () => {
    const p = await proof();
    expect((await call(gwA, { dpop: p })).status).toBe(200);
    const again = await call(gwA, { dpop: p });
    expect([again.status, again.code]).toEqual([401, 'DPOP_PROOF_INVALID']);
    // The same proof (htu rewritten would break it: B serves another port, so send B its own proof twice, A's once).
    const forB = await proof({}, `${gwB.url}/graphql`);
    expect((await call(gwB, { dpop: forB })).status).toBe(200);
    const replayedOnB = await call(gwB, { dpop: forB });
    expect([replayedOnB.status, replayedOnB.code]).toEqual([401, 'DPOP_PROOF_INVALID']);
    // One jti, used at A first, then presented to B (for B's URL): B knows it was used.
    const jti = randomUUID();
    expect((await call(gwA, { dpop: await proof({ jti }) })).status).toBe(200);
    const crossed = await call(gwB, { dpop: await proof({ jti }, `${gwB.url}/graphql`) });
    expect([crossed.status, crossed.code]).toEqual([401, 'DPOP_PROOF_INVALID']);
  });

  test('a stale iat is answered with use_dpop_nonce; the nonce then carries the proof', async () => {
    const stale = await call(gwA, { dpop: await proof({ iat: Math.floor(Date.now() / 1000) - 600 }) });
    expect([stale.status, stale.code]).toEqual([401, 'DPOP_NONCE_REQUIRED']);
    expect(stale.authenticate).toMatch(/^DPoP error="use_dpop_nonce"/);
    expect(stale.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const future = await call(gwA, { dpop: await proof({ iat: Math.floor(Date.now() / 1000) + 600 }) });
    expect(future.code).toBe('DPOP_NONCE_REQUIRED');
    const withNonce = await call(gwA, { dpop: await proof({ iat: Math.floor(Date.now() / 1000) - 600, nonce: stale.nonce! }) });
    expect([withNonce.status, withNonce.me]).toEqual([200, accountId]);
    // Any gateway process accepts another's nonce (derived from the shared internal key).
    const onB = await call(gwB, { dpop: await proof({ nonce: stale.nonce! }, `${gwB.url}/graphql`) });
    expect(onB.status).toBe(200);
  });

  test('GATEWAY_DPOP_REQUIRE_NONCE: a proof without the nonce gets one; openid-client retries with it by itself', async () => {
    const first = await call(gwNonce, { dpop: await proof({}, `${gwNonce.url}/graphql`) });
    expect([first.status, first.code]).toEqual([401, 'DPOP_NONCE_REQUIRED']);
    expect(first.authenticate).toMatch(/^DPoP error="use_dpop_nonce"/);
    const forged = await call(gwNonce, { dpop: await proof({ nonce: 'A'.repeat(43) }, `${gwNonce.url}/graphql`) });
    expect(forged.code).toBe('DPOP_NONCE_REQUIRED');
    const good = await call(gwNonce, { dpop: await proof({ nonce: first.nonce! }, `${gwNonce.url}/graphql`) });
    expect([good.status, good.me]).toEqual([200, accountId]);
    // A fresh DPoP handle (no nonce cached): the library meets use_dpop_nonce and retries once.
    const fresh = client.getDPoPHandle(rp, keyPair);
    const res = await client.fetchProtectedResource(rp, bound, new URL(`${gwNonce.url}/graphql`), 'POST', ME, new Headers({ 'content-type': 'application/json' }), { DPoP: fresh });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { me: { id: accountId } } });
  });

  test('a token that is not bound is refused with the DPoP scheme and still works as Bearer', async () => {
    expect(decodeJwt(plain).cnf).toBeUndefined();
    const r = await call(gwA, { token: plain, dpop: await proof({ ath: accessTokenHash(plain) }) });
    expect([r.status, r.code]).toEqual([401, 'TOKEN_INVALID']);
    expect(r.authenticate).toMatch(/^DPoP error="invalid_token"/);
    const ok = await call(gwA, { scheme: 'Bearer', token: plain });
    expect([ok.status, ok.me]).toEqual([200, accountId]);
  });
});

describe('gateway.dpop.checker', () => {
  const T0 = new Date('2026-03-01T08:00:00Z');
  const URL_ = 'https://graph.example.gov.cn/graphql';
  let key: CryptoKeyPair;
  let jkt: string;
  beforeAll(async () => {
    key = await generateKeyPair('ES256') as CryptoKeyPair;
    jkt = await calculateJwkThumbprint(await exportJWK(key.publicKey as CryptoKey));
  });
  const sign = async (clock: ManualClock, c: ProofClaims = {}) => new SignJWT({ htm: 'POST', htu: URL_, jti: c.jti ?? randomUUID(), ath: accessTokenHash('tok'), ...(c.nonce ? { nonce: c.nonce } : {}) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(key.publicKey as CryptoKey) })
    .setIssuedAt(c.iat ?? Math.floor(clock.now().getTime() / 1000)).sign(key.privateKey as CryptoKey);
  const checker = (clock: ManualClock, cache: Cache = new MemoryCache('t:', () => clock.now().getTime()), requireNonce = false): DpopChecker =>
    createDpopChecker({ cache, clock, nonceKey: internalKey(TEST_SECRET), iatWindowSeconds: 60, requireNonce });
  const codeOf = async (p: Promise<unknown>) => p.then(() => 'accepted', (e: unknown) => (isAppError(e) ? `${e.code}${e.details?.reason ? `:${String(e.details.reason)}` : ''}` : String(e)));
  const req = (proof: string) => ({ method: 'POST', url: URL_, proof, accessToken: 'tok', jkt });

  test('the iat window is GATEWAY_DPOP_IAT_WINDOW_SECONDS either way', async () => {
    const clock = new ManualClock(T0);
    const c = checker(clock);
    const t = Math.floor(T0.getTime() / 1000);
    expect(await codeOf(c.check(req(await sign(clock, { iat: t - 59 }))))).toBe('accepted');
    expect(await codeOf(c.check(req(await sign(clock, { iat: t + 59 }))))).toBe('accepted');
    expect(await codeOf(c.check(req(await sign(clock, { iat: t - 61 }))))).toBe('DPOP_NONCE_REQUIRED');
    expect(await codeOf(c.check(req(await sign(clock, { iat: t + 61 }))))).toBe('DPOP_NONCE_REQUIRED');
  });

  test('a nonce is good for 2 to 3 minutes, then use_dpop_nonce', async () => {
    const clock = new ManualClock(T0);
    const c = checker(clock, undefined, true);
    const n = c.nonce();
    clock.advance(120_000);
    expect(await codeOf(c.check(req(await sign(clock, { nonce: n }))))).toBe('accepted');
    clock.advance(60_000);
    expect(await codeOf(c.check(req(await sign(clock, { nonce: n }))))).toBe('DPOP_NONCE_REQUIRED');
    expect(await codeOf(c.check(req(await sign(clock))))).toBe('DPOP_NONCE_REQUIRED');
  });

  test('a used jti is remembered for as long as its proof could be accepted', async () => {
    const clock = new ManualClock(T0);
    const c = checker(clock);
    const n = c.nonce();
    const p = await sign(clock, { jti: 'once', nonce: n });
    expect(await codeOf(c.check(req(p)))).toBe('accepted');
    clock.advance(170_000); // the nonce still holds: so must the memory of the jti
    expect(await codeOf(c.check(req(p)))).toBe('DPOP_PROOF_INVALID:replayed');
  });

  test('the thumbprint is RFC 7638\'s for every key type proofs use; a private key in the header is refused', async () => {
    for (const alg of ['ES256', 'ES384', 'PS256', 'RS256', 'Ed25519']) {
      const pair = await generateKeyPair(alg, { extractable: true });
      const pub = await exportJWK(pair.publicKey);
      expect(jwkThumbprint({ ...pub, kid: 'ignored', use: 'sig' })).toBe(await calculateJwkThumbprint(pub));
    }
    expect(jwkThumbprint({ kty: 'oct', k: 'AAAA' })).toBeUndefined();
    expect(jwkThumbprint({ kty: 'EC', crv: 'P-256', x: 1, y: 'a' })).toBeUndefined();
    const clock = new ManualClock(T0);
    const pair = await generateKeyPair('ES256', { extractable: true });
    const priv = await exportJWK(pair.privateKey);
    const privJkt = await calculateJwkThumbprint(await exportJWK(pair.publicKey));
    const leaked = await new SignJWT({ htm: 'POST', htu: URL_, jti: randomUUID(), ath: accessTokenHash('tok') })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: priv }).setIssuedAt(Math.floor(T0.getTime() / 1000)).sign(pair.privateKey);
    expect(await codeOf(checker(clock).check({ ...req(leaked), jkt: privJkt }))).toBe('DPOP_PROOF_INVALID:signature');
  });

  test('an unreadable replay cache refuses the request (SERVICE_UNAVAILABLE), never lets it through', async () => {
    const clock = new ManualClock(T0);
    const failing = Object.assign(new MemoryCache('t:'), { set: async (): Promise<boolean> => { throw new Error('connection lost'); } });
    expect(await codeOf(checker(clock, failing).check(req(await sign(clock))))).toBe('SERVICE_UNAVAILABLE');
  });
});
