/**
 * The whole round trip of a cross-tier login (R-ID-12), for `npm run bench tiers`. A person
 * registered at a home province, logged in there already, opens an application of another
 * province; the visiting IdP's login page sends them home (the form POST `…/interaction/<uid>/home`),
 * the home answers silently, and the visiting IdP recognises them (bin/journey/cross-tier.ts
 * walks it as a browser; the application asks `prompt=login`, so the visiting IdP does not
 * simply reuse its own session). Measured with both trust chains cached (the visiting IdP's of
 * the home, the home's of the visiting IdP) and with both resolved again each time (the
 * directory stays cached in the visiting IdP's memory). Baselines in the same run: the same
 * application's login of a local person at the visiting IdP, silent (already logged in there)
 * and with the password typed (a new browser: what the person would do without the home).
 * Milliseconds each, and HTTP requests received by every server (browser, relying party and
 * federation calls alike). Embedded stores, everything on this machine.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Server } from 'node:http';
import { rmSync } from 'node:fs';
import * as client from 'openid-client';
import { OffsetClock, systemClock } from '../../kernel/clock.ts';
import { openCache, type Cache } from '../../kernel/cache.ts';
import { loadConfig, resolveSecrets } from '../../kernel/config.ts';
import { openDb } from '../../kernel/db.ts';
import { createHttpApp, listen, type Listening } from '../../kernel/http.ts';
import { internalKey } from '../../kernel/internal-auth.ts';
import { silentLogger } from '../../kernel/log.ts';
import { DEMO_CITIZEN } from '../../kernel/demo.ts';
import type { Deps } from '../../kernel/service.ts';
import { createFederationEntity, decodeStatement, federationRouter, type TrustAnchor } from '../../federation/index.ts';
import { startIdpService } from '../../idp/service.ts';
import { devSink } from '../../idp/otp/dev-sinks.ts';
import { AGREEMENT } from '../../idp/accounts/store.ts';
import { CookieJar, authorizeInBrowser } from '../../bin/journey/browser.ts';
import { crossTierLogin } from '../../bin/journey/cross-tier.ts';
import { newCitizen } from '../../bin/journey/steps.ts';
import { compareRuns, freePort } from './timing.ts';
import type { BenchResult } from '../run.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const HOST = '127.0.0.1';
const APP = 'http://127.0.0.1:3000/callback';

export async function crossTierRoundTrip(): Promise<BenchResult> {
  // Every HTTP request any server of this process receives.
  let received = 0;
  const emit = Server.prototype.emit;
  Server.prototype.emit = function counted(this: Server, ...args: unknown[]) {
    if (args[0] === 'request') received++;
    return (emit as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof emit;

  const anchors: TrustAnchor[] = [];
  const servers: Listening[] = [];
  const caches: Cache[] = [];
  const dirs: string[] = [];
  const nationalPort = await freePort(HOST);
  const nationalId = `http://${HOST}:${nationalPort}`;
  const fedCache = await openCache({ prefix: `bench-xt-fed-${process.pid}:` });
  caches.push(fedCache);
  const national = await createFederationEntity({
    entityId: nationalId, organizationName: 'national', authorityHints: [], trustAnchors: anchors, db: await openDb({}), cache: fedCache, clock: new OffsetClock(),
    keyPassphrase: 'bench-national-passphrase-0123456789', statementTtlSeconds: 3600, chainCacheSeconds: 300,
    urlPolicy: { allowedHosts: [], httpHosts: [HOST] }, fetchTimeoutMs: 5000, fetchMaxBytes: 262144,
  });
  const { app, router } = createHttpApp({ name: 'national', log: silentLogger() });
  app.use(router.routes());
  app.use(federationRouter(national).routes());
  servers.push(await listen(app, nationalPort, HOST));
  anchors.push({ entityId: nationalId, jwks: await national.keys.publicJwks() });

  const idps: Array<{ close(): Promise<void>; cache: Cache; issuer: string }> = [];
  async function idp(id: string, region: string) {
    const port = await freePort(HOST);
    const issuer = `http://${HOST}:${port}`;
    const dir = `/tmp/yiwang-bench-xt-${id}-${process.pid}`;
    dirs.push(dir);
    const config = loadConfig({
      NODE_ENV: 'test', LOG_LEVEL: 'silent', IDP_ISSUER: issuer, IDP_PORT: String(port), DATA_DIR: dir, NOTIFY_SINK: 'dev',
      YIWANG_INTERNAL_SECRET: randomBytes(32).toString('hex'), KEY_PASSPHRASE: randomBytes(32).toString('hex'), IDP_COOKIE_KEYS: randomBytes(32).toString('hex'),
      IDP_PORTAL_REDIRECT_URIS: APP, IDP_PLATFORM_ID: id, IDP_PLATFORM_TIER: 'provincial', IDP_PLATFORM_REGION: region,
      FEDERATION_ENTITY_ID: issuer, FEDERATION_AUTHORITY_HINTS: nationalId, FEDERATION_TRUST_ANCHORS: JSON.stringify(anchors), FEDERATION_HTTP_HOSTS: HOST,
      FEDERATION_ORGANIZATION_NAME: id, IDP_OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8',
    });
    const secrets = resolveSecrets(config);
    const db = await openDb({});
    const cache = await openCache({ prefix: `bench-xt-${id}-${process.pid}:` });
    caches.push(cache);
    const deps: Deps = { config, secrets, internalKey: internalKey(secrets.internalSecret), db, cache, clock: systemClock, log: silentLogger() };
    const svc = await startIdpService(deps, { port, host: HOST, seed: true });
    const jwt = await (await fetch(`${issuer}/.well-known/openid-federation`)).text();
    await national.registry.put({ entityId: issuer, jwks: decodeStatement(jwt).claims.jwks, entityTypes: ['openid_provider', 'openid_relying_party'] }, 'bench');
    const t = { issuer, cache, async close() { await svc.close(); await db.close(); } };
    idps.push(t);
    return t;
  }
  const home = await idp('zj', '330000');
  const visiting = await idp('js', '320000');

  // A person registered at home only (the development SMS sink gives the registration code).
  const person = newCitizen();
  await fetch(`${home.issuer}/register/code`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mobile: person.mobile }) });
  const code = (await devSink(home.issuer)!()).filter((n) => n.to === person.mobile).at(-1)?.params?.code;
  const reg = await fetch(`${home.issuer}/register`, {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ ...person, mobileCode: code, factorType: 'socialSecurityCard', factorValue: 'A12345678', agreementVersion: AGREEMENT.version }),
  });
  if (reg.status !== 201) throw new Error(`registration at home refused: ${reg.status} ${await reg.text()}`);

  // First time: log in at home, release the identity to the visiting platform, the application's consent.
  const jar = new CookieJar();
  await crossTierLogin({ visiting: visiting.issuer, redirectUri: APP, home: home.issuer, login: person.idNumber, password: person.password, jar });
  const portal = await client.discovery(new URL(visiting.issuer), 'yiwang-portal', undefined, client.None(), { execute: [client.allowInsecureRequests] });
  const crossTier = async () => {
    const r = await crossTierLogin({ visiting: visiting.issuer, redirectUri: APP, home: home.issuer, jar, config: portal, params: { prompt: 'login' } });
    if (r.pages.homeLogin || r.pages.consent) throw new Error('the home login was not silent');
  };
  const key = (anchor: string, entityId: string) => `federation:chain:${createHash('sha256').update(`${anchor}\n${entityId}`).digest('base64url')}`;
  const crossTierCold = async () => {
    await visiting.cache.del(key('*', home.issuer), key(nationalId, home.issuer));
    await home.cache.del(key('*', visiting.issuer), key(nationalId, visiting.issuer));
    await crossTier();
  };
  // Baseline: a local person (the demo citizen of the visiting platform), logged in there already.
  const localJar = new CookieJar();
  const local = async () => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(portal, { redirect_uri: APP, scope: 'openid profile phone', state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const callback = await authorizeInBrowser(localJar, url, { redirectUri: APP, login: DEMO_CITIZEN.idNumber, password: DEMO_CITIZEN.password });
    await client.authorizationCodeGrant(portal, callback, { pkceCodeVerifier: verifier, expectedState: state });
  };
  await local();
  // The same local person typing the password in a new browser (prompt=login: no session reused).
  const localPassword = async () => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(portal, { redirect_uri: APP, scope: 'openid profile phone', state, prompt: 'login', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const callback = await authorizeInBrowser(new CookieJar(), url, { redirectUri: APP, login: DEMO_CITIZEN.idNumber, password: DEMO_CITIZEN.password });
    await client.authorizationCodeGrant(portal, callback, { pkceCodeVerifier: verifier, expectedState: state });
  };

  const runs = await compareRuns({ local, localPassword, cached: crossTier, cold: crossTierCold }, async (fn) => { received = 0; await fn(); return received; }, SECONDS * 1000);
  const [hopsLocal, hopsPassword, hopsCached, hopsCold] = [runs.local.count, runs.localPassword.count, runs.cached.count, runs.cold.count];
  const [rLocal, rPassword, rCached, rCold] = [runs.local.rate, runs.localPassword.rate, runs.cached.rate, runs.cold.rate];

  Server.prototype.emit = emit;
  for (const i of idps) await i.close();
  for (const s of servers) await s.close();
  for (const c of caches) await c.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });

  const round = (x: number) => Math.round(x * 10) / 10;
  const figures = {
    localLoginMs: round(rLocal.msEach), localHttpRequests: hopsLocal,
    localPasswordLoginMs: round(rPassword.msEach), localPasswordHttpRequests: hopsPassword,
    crossTierCachedMs: round(rCached.msEach), crossTierCachedHttpRequests: hopsCached,
    crossTierColdMs: round(rCold.msEach), crossTierColdHttpRequests: hopsCold,
    cachedOverLocal: Math.round(rCached.msEach / rLocal.msEach * 100) / 100,
    coldOverLocal: Math.round(rCold.msEach / rLocal.msEach * 100) / 100,
    cachedOverPasswordLogin: Math.round(rCached.msEach / rPassword.msEach * 100) / 100,
    samples: `${rLocal.n}/${rPassword.n}/${rCached.n}/${rCold.n}`,
  };
  return {
    figures,
    summary: [
      `local silent login at the visiting IdP:            ${figures.localLoginMs} ms, ${figures.localHttpRequests} HTTP requests`,
      `local login with the password (new browser):       ${figures.localPasswordLoginMs} ms, ${figures.localPasswordHttpRequests} HTTP requests`,
      `cross-tier login, chains cached (visiting → home):  ${figures.crossTierCachedMs} ms, ${figures.crossTierCachedHttpRequests} HTTP requests`,
      `cross-tier login, chains resolved each time:        ${figures.crossTierColdMs} ms, ${figures.crossTierColdHttpRequests} HTTP requests`,
      `cached / local silent = ${figures.cachedOverLocal}×, cold / local silent = ${figures.coldOverLocal}×, cached / local password login = ${figures.cachedOverPasswordLogin}×`,
    ],
  };
}
