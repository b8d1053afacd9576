/**
 * Automatic client registration at a real IdP (R-ID-12): another platform's IdP, known only as a
 * federation entity under the national trust anchor, logs a person in with code + PKCE and
 * `private_key_jwt` signed with the key its Entity Configuration publishes; nothing registered
 * by hand, no shared secret. And the ways it is refused.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { OffsetClock } from '../kernel/clock.ts';
import { createHttpApp, listen, type Listening } from '../kernel/http.ts';
import { silentLogger } from '../kernel/log.ts';
import type { Cache } from '../kernel/cache.ts';
import { DEMO_CITIZEN } from '../kernel/demo.ts';
import { createFederationEntity, decodeStatement, federationRouter, verifyStatement, type FederationEntity, type Json, type TrustAnchor } from '../federation/index.ts';
import { freePort, testCache, testDb, type TestDb } from './support/infra.ts';
import { CookieJar, authorizeCountingPages, startTestIdp, type TestIdp } from './support/oidc.ts';

const log = silentLogger();
const HOST = '127.0.0.1';
const urlPolicy = { allowedHosts: [], httpHosts: [HOST] };
interface Node { entity: FederationEntity; server: Listening; db: TestDb; id: string }
const nodes: Node[] = [];
const anchors: TrustAnchor[] = [];
let cache: Cache;
let national: Node;
let home: TestIdp;
const rpKeys = await generateKeyPair('ES256', { extractable: true });
const otherKeys = await generateKeyPair('ES256', { extractable: true });
const REDIRECT = 'http://127.0.0.1:3999/link/callback';

async function entity(name: string, hints: string[], metadata?: () => Record<string, Record<string, Json>>): Promise<Node> {
  const port = await freePort();
  const id = `http://${HOST}:${port}`;
  const db = await testDb();
  const e = await createFederationEntity({
    entityId: id, organizationName: name, authorityHints: hints, trustAnchors: anchors, db, cache, clock: new OffsetClock(),
    keyPassphrase: `passphrase-of-${name}-0123456789abcdef`, statementTtlSeconds: 3600, chainCacheSeconds: 300, urlPolicy,
    fetchTimeoutMs: 2000, fetchMaxBytes: 65536, ...(metadata ? { metadata, isAuthority: false } : {}),
  });
  const { app, router } = createHttpApp({ name, log });
  app.use(router.routes());
  app.use(federationRouter(e, log).routes());
  const n = { entity: e, server: await listen(app, port, HOST), db, id };
  nodes.push(n);
  return n;
}

/** A visiting platform's IdP as a relying party: its Entity Configuration publishes its key. */
async function visitingIdp(name: string, meta: Record<string, Json> = {}): Promise<Node> {
  const jwk = { ...(await exportJWK(rpKeys.publicKey)), kid: `${name}-rp-1`, use: 'sig', alg: 'ES256' };
  return entity(name, [national.id], () => ({
    openid_relying_party: {
      client_name: `${name} IdP`, redirect_uris: [REDIRECT], response_types: ['code'], grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'private_key_jwt', client_registration_types: ['automatic'], jwks: { keys: [jwk] } as unknown as Json, ...meta,
    },
  }));
}

async function register(n: Node, types: string[]) {
  await national.entity.registry.put({ entityId: n.id, jwks: await n.entity.keys.publicJwks(), entityTypes: types }, 'admin-national');
}

/** The visiting IdP's code flow at the home IdP, signing its client assertions with `key`. */
async function codeFlow(clientId: string, key: CryptoKey, o: { resource?: string } = {}) {
  const config = await client.discovery(new URL(home.issuer), clientId, { token_endpoint_auth_method: 'private_key_jwt' }, client.PrivateKeyJwt(key), {
    execute: [client.allowInsecureRequests],
  });
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid yw_realname', state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    ...(o.resource ? { resource: o.resource } : {}),
  });
  const { callback, pages } = await authorizeCountingPages(new CookieJar(), url, REDIRECT, DEMO_CITIZEN.idNumber, DEMO_CITIZEN.password);
  return { config, callback, pages, exchange: () => client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }) };
}

/** The home IdP's answer to an authorization request from `clientId`: its error page, or a login. */
async function authorizeAnswer(clientId: string): Promise<{ status: number; body: string }> {
  const u = new URL(`${home.issuer}/auth`);
  for (const [k, v] of Object.entries({ client_id: clientId, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid yw_realname', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })) u.searchParams.set(k, v);
  const res = await fetch(u, { redirect: 'manual' });
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  cache = await testCache();
  national = await entity('national', []);
  anchors.push({ entityId: national.id, jwks: await national.entity.keys.publicJwks() });
  const port = await freePort();
  const issuer = `http://${HOST}:${port}`;
  home = await startTestIdp({
    port,
    env: {
      IDP_PLATFORM_ID: 'zj-hz', IDP_PLATFORM_REGION: '330100', FEDERATION_ENTITY_ID: issuer, FEDERATION_AUTHORITY_HINTS: national.id,
      FEDERATION_TRUST_ANCHORS: JSON.stringify(anchors), FEDERATION_HTTP_HOSTS: HOST, FEDERATION_ORGANIZATION_NAME: '杭州市 / Hangzhou',
    },
  });
}, 180_000);

afterAll(async () => {
  await home?.close();
  for (const n of nodes) {
    await n.server.close().catch(() => undefined);
    await n.db.destroy().catch(() => undefined);
  }
  await cache?.close();
});

describe('the IdP in the federation', () => {
  test('serves its Entity Configuration at the issuer, with its OpenID Provider metadata', async () => {
    const res = await fetch(`${home.issuer}/.well-known/openid-federation`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/entity-statement\+jwt/);
    const jwt = await res.text();
    const { claims } = decodeStatement(jwt);
    await verifyStatement(jwt, claims.jwks, Math.floor(Date.now() / 1000));
    expect(claims).toMatchObject({ iss: home.issuer, sub: home.issuer, authority_hints: [national.id] });
    expect(claims.metadata?.openid_provider).toMatchObject({ issuer: home.issuer, token_endpoint: `${home.issuer}/token`, client_registration_types_supported: ['automatic'] });
    expect(claims.metadata?.federation_entity?.yiwang_platform).toEqual({ id: 'zj-hz', tier: 'municipal', mode: 'separate', region: '330100' });
    // A municipal IdP is a leaf: no fetch or list.
    expect(claims.metadata?.federation_entity?.federation_fetch_endpoint).toBeUndefined();
  });

  test('another platform\'s IdP registers automatically and gets the verified identity, with private_key_jwt only (R-ID-12)', async () => {
    const visiting = await visitingIdp('nj');
    await register(visiting, ['openid_relying_party']);
    const flow = await codeFlow(visiting.id, rpKeys.privateKey);
    expect(flow.callback.searchParams.get('error')).toBeNull();
    // The person logs in at home and approves the release of the verified identity to that platform.
    expect(flow.pages).toEqual({ login: 1, consent: 1, passwordChange: 0 });
    const tokens = await flow.exchange();
    const claims = tokens.claims()!;
    expect(claims.aud).toBe(visiting.id);
    expect(claims.acr).toMatch(/^urn:yiwang:loa:[2-5]$/);
    const info = await client.fetchUserInfo(flow.config, tokens.access_token, claims.sub);
    expect(JSON.stringify(info.verified_claims)).toContain(DEMO_CITIZEN.idNumber);
    // A pairwise subject: not the account id.
    expect(claims.sub).not.toBe(DEMO_CITIZEN.id);
  });

  test('a client assertion signed with a key its Entity Configuration does not publish is refused', async () => {
    const visiting = await visitingIdp('wrong-key');
    await register(visiting, ['openid_relying_party']);
    const flow = await codeFlow(visiting.id, otherKeys.privateKey);
    await expect(flow.exchange()).rejects.toMatchObject({ error: 'invalid_client' });
  });

  test('an entity no superior vouches for, or one that is removed, is not a client', async () => {
    const unknown = await visitingIdp('unknown');
    const refused = await authorizeAnswer(unknown.id);
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('invalid_client');

    const leaving = await visitingIdp('leaving');
    await register(leaving, ['openid_relying_party']);
    expect((await codeFlow(leaving.id, rpKeys.privateKey)).callback.searchParams.get('code')).toBeTruthy();
    await national.entity.registry.remove(leaving.id, 'admin-national');
    // The home IdP still holds the chain in its cache: it ends when the cache does (FEDERATION_CHAIN_CACHE_SECONDS).
    await home.cache.del(...(await cacheKeysOf(leaving.id)));
    const after = await authorizeAnswer(leaving.id);
    expect(after.status).toBe(400);
    expect(after.body).toContain('invalid_client');
  });

  test('metadata asking for a shared secret is refused, and a federated client gets no token for the graph', async () => {
    const secretive = await visitingIdp('secretive', { token_endpoint_auth_method: 'client_secret_basic' });
    await register(secretive, ['openid_relying_party']);
    expect((await authorizeAnswer(secretive.id)).body).toContain('invalid_client');
    // An entity with proper metadata is a client (sent on to the login): the refusal was the metadata.
    const visiting = await visitingIdp('graph');
    await register(visiting, ['openid_relying_party']);
    const ok = await authorizeAnswer(visiting.id);
    expect(ok.status).toBeGreaterThanOrEqual(300);
    expect(ok.status).toBeLessThan(400);
    const flow = await codeFlow(visiting.id, rpKeys.privateKey, { resource: home.config.GATEWAY_RESOURCE });
    expect(flow.callback.searchParams.get('error')).toBe('invalid_target');
  });
});

/** The home IdP's cached chain of an entity (federation/resolver.ts keys), to end the cache lifetime now. */
async function cacheKeysOf(entityId: string): Promise<string[]> {
  const { createHash } = await import('node:crypto');
  const key = (anchor: string) => `federation:chain:${createHash('sha256').update(`${anchor}\n${entityId}`).digest('base64url')}`;
  return [key('*'), ...anchors.map((a) => key(a.entityId))];
}
