/**
 * `npm run bench federation`: resolving and validating a city IdP's trust chain (city →
 * province → national anchor, three HTTP servers on this machine, embedded stores), cold (every
 * Entity Configuration and statement fetched: HTTP requests counted) and from the chain cache
 * (the cached chain is validated again: signatures, times, constraints, policy), beside a
 * baseline measured in the same run: one HTTP GET of the city's Entity Configuration and one
 * ES256 verification of it (the least any trust decision over HTTP costs).
 */
import { freePort, rate } from './support/timing.ts';
import { OffsetClock } from '../kernel/clock.ts';
import { openCache } from '../kernel/cache.ts';
import { openDb } from '../kernel/db.ts';
import { createHttpApp, listen, type Listening } from '../kernel/http.ts';
import { silentLogger } from '../kernel/log.ts';
import { createFederationEntity, createFetcher, createResolver, federationRouter, verifyStatement, decodeStatement, type TrustAnchor, type FederationEntity } from '../federation/index.ts';
import type { BenchResult } from './run.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const HOST = '127.0.0.1';
const urlPolicy = { allowedHosts: [], httpHosts: [HOST] };



export default async function bench(): Promise<BenchResult> {
  const anchors: TrustAnchor[] = [];
  const servers: Listening[] = [];
  const cache = await openCache({});
  async function start(name: string, hints: string[], metadata?: () => Record<string, Record<string, never>>): Promise<{ id: string; entity: FederationEntity }> {
    const p = await freePort(HOST);
    const id = `http://${HOST}:${p}`;
    const entity = await createFederationEntity({
      entityId: id, organizationName: name, authorityHints: hints, trustAnchors: anchors, db: await openDb({}), cache, clock: new OffsetClock(),
      keyPassphrase: `bench-${name}-passphrase-0123456789`, statementTtlSeconds: 3600, chainCacheSeconds: 300, urlPolicy, fetchTimeoutMs: 5000, fetchMaxBytes: 262144,
      ...(metadata ? { metadata } : {}), ...(hints.length && !metadata ? { isAuthority: true } : {}),
    });
    const { app, router } = createHttpApp({ name, log: silentLogger() });
    app.use(router.routes());
    app.use(federationRouter(entity).routes());
    servers.push(await listen(app, p, HOST));
    return { id, entity };
  }
  const national = await start('national', []);
  anchors.push({ entityId: national.id, jwks: await national.entity.keys.publicJwks() });
  const province = await start('province', [national.id]);
  const city = await start('city', [province.id], () => ({ openid_provider: { issuer: 'https://city.example' as never, subject_types_supported: ['pairwise'] as never } }));
  await national.entity.registry.put({ entityId: province.id, jwks: await province.entity.keys.publicJwks(), entityTypes: ['federation_entity'], metadataPolicy: { openid_provider: { subject_types_supported: { subset_of: ['pairwise', 'public'] } } } }, 'bench');
  await province.entity.registry.put({ entityId: city.id, jwks: await city.entity.keys.publicJwks(), entityTypes: ['openid_provider'] }, 'bench');

  let requests = 0;
  const counting = (url: string, init: RequestInit) => { requests++; return fetch(url, init); };
  const fetcher = createFetcher({ ...urlPolicy, timeoutMs: 5000, maxBytes: 262144, fetch: counting });
  const visitorCache = await openCache({ prefix: 'bench-visitor:' });
  const resolver = createResolver({ anchors, fetcher, clock: new OffsetClock(), cache: visitorCache, cacheSeconds: 300 });

  requests = 0;
  await resolver.resolve(city.id, { fresh: true });
  const hopsCold = requests;
  requests = 0;
  await resolver.resolve(city.id);
  const hopsCached = requests;

  const ms = (SECONDS * 1000) / 3;
  const cold = await rate(() => resolver.resolve(city.id, { fresh: true }), ms);
  const cached = await rate(() => resolver.resolve(city.id), ms);
  const baseline = await rate(async () => {
    const jwt = await fetcher.entityConfiguration(city.id);
    await verifyStatement(jwt, decodeStatement(jwt).claims.jwks, Math.floor(Date.now() / 1000));
  }, ms);

  for (const s of servers) await s.close();
  await cache.close();
  await visitorCache.close();
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const figures = {
    coldMs: r2(cold.msEach), coldHttpRequests: hopsCold,
    cachedMs: r2(cached.msEach), cachedHttpRequests: hopsCached,
    baselineOneConfigurationMs: r2(baseline.msEach),
    coldToBaseline: r2(cold.msEach / baseline.msEach), cachedToBaseline: r2(cached.msEach / baseline.msEach),
  };
  return {
    figures,
    summary: [
      `cold chain (3 tiers): ${figures.coldMs} ms, ${hopsCold} HTTP requests (${figures.coldToBaseline}× baseline)`,
      `cached chain (validated again): ${figures.cachedMs} ms, ${hopsCached} HTTP requests (${figures.cachedToBaseline}× baseline)`,
      `baseline (GET one Entity Configuration + one ES256 verify): ${figures.baselineOneConfigurationMs} ms`,
    ],
  };
}
