/**
 * `npm run bench tiers`: the home platform's half of a cross-tier login (R-ID-12). A person
 * already logged in at the home IdP is sent there by another platform's IdP, which the home IdP
 * knows only as a federation entity under the national anchor (automatic registration,
 * `private_key_jwt` with the key its Entity Configuration publishes): authorization (silent,
 * consent given before) and code exchange, in milliseconds and HTTP requests, with the visiting
 * platform's trust chain cached at the home IdP and cold (resolved again over HTTP each time).
 * Baseline in the same run: the same silent login by the first-party portal client (registered
 * in the IdP's configuration) at the same IdP. Embedded stores, everything on this machine.
 *
 * Then the whole round trip (./support/cross-tier-round-trip.ts): the visiting platform's login
 * page, home discovery, the home's silent login, the recognised local identity and the
 * application's tokens, cached and cold, beside local logins at the visiting IdP.
 */
import { compareRuns, freePort } from './support/timing.ts';
import { rmSync } from 'node:fs';
import * as client from 'openid-client';
import { exportJWK, generateKeyPair } from 'jose';
import { createHash, randomBytes } from 'node:crypto';
import { OffsetClock, systemClock } from '../kernel/clock.ts';
import { openCache } from '../kernel/cache.ts';
import { loadConfig, resolveSecrets } from '../kernel/config.ts';
import { openDb } from '../kernel/db.ts';
import { createHttpApp, listen, type Listening } from '../kernel/http.ts';
import { internalKey } from '../kernel/internal-auth.ts';
import { silentLogger } from '../kernel/log.ts';
import { DEMO_CITIZEN } from '../kernel/demo.ts';
import type { Deps } from '../kernel/service.ts';
import { createFederationEntity, federationRouter, type Json, type TrustAnchor } from '../federation/index.ts';
import { startIdpService } from '../idp/service.ts';
import { CookieJar, authorizeInBrowser } from '../bin/journey/browser.ts';
import type { BenchResult } from './run.ts';
import { crossTierRoundTrip } from './support/cross-tier-round-trip.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const HOST = '127.0.0.1';
const urlPolicy = { allowedHosts: [], httpHosts: [HOST] };



export default async function bench(): Promise<BenchResult> {
  const servers: Listening[] = [];
  const anchors: TrustAnchor[] = [];
  const fedCache = await openCache({ prefix: 'bench-tiers-fed:' });
  let federationRequests = 0;
  async function entity(name: string, hints: string[], metadata?: () => Record<string, Record<string, Json>>) {
    const p = await freePort(HOST);
    const id = `http://${HOST}:${p}`;
    const e = await createFederationEntity({
      entityId: id, organizationName: name, authorityHints: hints, trustAnchors: anchors, db: await openDb({}), cache: fedCache, clock: new OffsetClock(),
      keyPassphrase: `bench-${name}-passphrase-0123456789`, statementTtlSeconds: 3600, chainCacheSeconds: 300, urlPolicy, fetchTimeoutMs: 5000, fetchMaxBytes: 262144,
      ...(metadata ? { metadata, isAuthority: false } : {}),
    });
    const { app, router } = createHttpApp({ name, log: silentLogger() });
    app.use(async (_ctx, next) => { federationRequests++; await next(); });
    app.use(router.routes());
    app.use(federationRouter(e).routes());
    servers.push(await listen(app, p, HOST));
    return { id, entity: e };
  }

  const national = await entity('national', []);
  anchors.push({ entityId: national.id, jwks: await national.entity.keys.publicJwks() });
  const rpKeys = await generateKeyPair('ES256', { extractable: true });
  const redirect = 'http://127.0.0.1:3999/link/callback';
  const rpJwk = { ...(await exportJWK(rpKeys.publicKey)), kid: 'visiting-rp', use: 'sig', alg: 'ES256' };
  const visiting = await entity('visiting', [national.id], () => ({
    openid_relying_party: {
      redirect_uris: [redirect], token_endpoint_auth_method: 'private_key_jwt', client_registration_types: ['automatic'],
      jwks: { keys: [rpJwk] } as unknown as Json,
    },
  }));
  await national.entity.registry.put({ entityId: visiting.id, jwks: await visiting.entity.keys.publicJwks(), entityTypes: ['openid_relying_party'] }, 'bench');

  // The home IdP, in a federation under the national anchor.
  const idpPort = await freePort(HOST);
  const issuer = `http://${HOST}:${idpPort}`;
  const config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', IDP_ISSUER: issuer, IDP_PORT: String(idpPort), DATA_DIR: `/tmp/yiwang-bench-tiers-${process.pid}`,
    YIWANG_INTERNAL_SECRET: randomBytes(32).toString('hex'), KEY_PASSPHRASE: randomBytes(32).toString('hex'), IDP_COOKIE_KEYS: randomBytes(32).toString('hex'),
    IDP_PORTAL_REDIRECT_URIS: 'http://127.0.0.1:3000/callback',
    FEDERATION_ENTITY_ID: issuer, FEDERATION_AUTHORITY_HINTS: national.id, FEDERATION_TRUST_ANCHORS: JSON.stringify(anchors), FEDERATION_HTTP_HOSTS: HOST,
  });
  const secrets = resolveSecrets(config);
  const db = await openDb({});
  const cache = await openCache({ prefix: 'bench-tiers-idp:' });
  const deps: Deps = { config, secrets, internalKey: internalKey(secrets.internalSecret), db, cache, clock: systemClock, log: silentLogger() };
  const idp = await startIdpService(deps, { port: idpPort, host: HOST, seed: true });

  // Requests to the home IdP (browser and relying party), counted through the global fetch.
  let idpRequests = 0;
  const realFetch = globalThis.fetch;
  globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const u = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (u.startsWith(issuer)) idpRequests++;
    return realFetch(input, init);
  }) as typeof fetch;

  const insecure = { execute: [client.allowInsecureRequests] };
  const portal = await client.discovery(new URL(issuer), 'yiwang-portal', undefined, client.None(), insecure);
  const federated = await client.discovery(new URL(issuer), visiting.id, { token_endpoint_auth_method: 'private_key_jwt' }, client.PrivateKeyJwt(rpKeys.privateKey), insecure);
  const jar = new CookieJar();
  const login = { login: DEMO_CITIZEN.idNumber, password: DEMO_CITIZEN.password };

  async function once(config: client.Configuration, redirectUri: string, scope: string) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope, state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const callback = await authorizeInBrowser(jar, url, { redirectUri, ...login });
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    if (!tokens.id_token) throw new Error('no ID token');
  }
  const local = () => once(portal, 'http://127.0.0.1:3000/callback', 'openid profile');
  const crossTier = () => once(federated, redirect, 'openid yw_realname');
  const chainKeys = ['*', national.id].map((a) => `federation:chain:${createHash('sha256').update(`${a}\n${visiting.id}`).digest('base64url')}`);
  const crossTierCold = async () => { await cache.del(...chainKeys); await crossTier(); };

  // Log in once (the session) and give consent to the visiting platform once.
  await local();
  await crossTier();

  const runs = await compareRuns({ local, cached: crossTier, cold: crossTierCold }, async (fn) => {
    idpRequests = 0;
    federationRequests = 0;
    await fn();
    return { idp: idpRequests, federation: federationRequests };
  }, SECONDS * 1000);
  const [hopsLocal, hopsCached, hopsCold] = [runs.local.count, runs.cached.count, runs.cold.count];
  const [rLocal, rCached, rCold] = [runs.local.rate, runs.cached.rate, runs.cold.rate];

  globalThis.fetch = realFetch;
  await idp.close();
  for (const s of servers) await s.close();
  await cache.close();
  await fedCache.close();
  await db.close();
  rmSync(config.DATA_DIR, { recursive: true, force: true });

  const round = (x: number) => Math.round(x * 10) / 10;
  const figures = {
    localLoginMs: round(rLocal.msEach), localHttpRequests: hopsLocal.idp,
    crossTierCachedMs: round(rCached.msEach), crossTierCachedHttpRequests: hopsCached.idp + hopsCached.federation, crossTierCachedFederationRequests: hopsCached.federation,
    crossTierColdMs: round(rCold.msEach), crossTierColdHttpRequests: hopsCold.idp + hopsCold.federation, crossTierColdFederationRequests: hopsCold.federation,
    cachedOverLocal: Math.round(rCached.msEach / rLocal.msEach * 100) / 100,
    coldOverLocal: Math.round(rCold.msEach / rLocal.msEach * 100) / 100,
    samples: `${rLocal.n}/${rCached.n}/${rCold.n}`,
  };
  const whole = await crossTierRoundTrip();
  const w = whole.figures;
  return {
    figures: { ...figures, ...Object.fromEntries(Object.entries(w).map(([k, v]) => [`roundTrip.${k}`, v])) },
    top: {
      crossTierCachedMs: w.crossTierCachedMs!, crossTierColdMs: w.crossTierColdMs!, localLoginMs: w.localLoginMs!, localPasswordLoginMs: w.localPasswordLoginMs!,
      cachedOverLocal: w.cachedOverLocal!, cachedOverPasswordLogin: w.cachedOverPasswordLogin!, crossTierCachedHttpRequests: w.crossTierCachedHttpRequests!,
      scope: 'visiting → home → back, logged in at home; home half measured apart',
    },
    summary: [
      'whole round trip (visiting portal → visiting IdP → home IdP → back):',
      ...whole.summary.map((l) => `  ${l}`),
      'home half only (automatic registration at the home IdP):',
      `local silent login (portal client):        ${figures.localLoginMs} ms, ${figures.localHttpRequests} HTTP requests`,
      `federated client, chain cached at home:     ${figures.crossTierCachedMs} ms, ${figures.crossTierCachedHttpRequests} HTTP requests (${figures.crossTierCachedFederationRequests} federation)`,
      `federated client, chain resolved each time: ${figures.crossTierColdMs} ms, ${figures.crossTierColdHttpRequests} HTTP requests (${figures.crossTierColdFederationRequests} federation)`,
      `cached / local = ${figures.cachedOverLocal}×, cold / local = ${figures.coldOverLocal}× (home half of a cross-tier login)`,
    ],
  };
}
