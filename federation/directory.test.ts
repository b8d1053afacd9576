/**
 * Home-platform discovery over real HTTP: a national anchor, a province in separate mode with a
 * city, a province in hybrid mode with a city (not a home), each its own federation entity,
 * database and server; the directory walks `list` endpoints and trusts only validated chains.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OffsetClock } from '../kernel/clock.ts';
import { createHttpApp, listen, type Listening } from '../kernel/http.ts';
import { silentLogger } from '../kernel/log.ts';
import type { Cache } from '../kernel/cache.ts';
import { freePort, testCache, testDb, type TestDb } from '../test/support/infra.ts';
import {
  createDirectory, createFetcher, createFederationEntity, createResolver, federationRouter, regionCovers, regionPrefix,
  type FederationEntity, type Json, type Metadata, type TrustAnchor,
} from './index.ts';

const log = silentLogger();
const HOST = '127.0.0.1';
const urlPolicy = { allowedHosts: [], httpHosts: [HOST] };
interface Node { entity: FederationEntity; server: Listening; db: TestDb; id: string }
const nodes: Record<string, Node> = {};
const anchors: TrustAnchor[] = [];
let cache: Cache;

const platform = (id: string, tier: string, mode: string, region: string, self: () => string): () => Metadata => () => ({
  openid_provider: { issuer: `${self()}/op`, authorization_endpoint: `${self()}/op/auth`, token_endpoint: `${self()}/op/token`, jwks_uri: `${self()}/op/jwks` },
  federation_entity: { yiwang_platform: { id, tier, mode, region } as Json },
});

async function start(name: string, hints: string[], metadata: (() => Metadata) | undefined, isAuthority: boolean): Promise<Node> {
  const port = await freePort();
  const id = `http://${HOST}:${port}`;
  const db = await testDb();
  const entity = await createFederationEntity({
    entityId: id, organizationName: name, authorityHints: hints, trustAnchors: anchors, db, cache, clock: new OffsetClock(),
    keyPassphrase: `passphrase-of-${name}-0123456789abcdef`, statementTtlSeconds: 3600, chainCacheSeconds: 300, urlPolicy,
    fetchTimeoutMs: 2000, fetchMaxBytes: 65536, isAuthority, ...(metadata ? { metadata } : {}),
  });
  const { app, router } = createHttpApp({ name, log });
  app.use(router.routes());
  app.use(federationRouter(entity, log).routes());
  return { entity, server: await listen(app, port, HOST), db, id };
}

async function register(superior: string, sub: string, entityTypes: string[], metadata?: Metadata) {
  await nodes[superior]!.entity.registry.put({
    entityId: nodes[sub]!.id, jwks: await nodes[sub]!.entity.keys.publicJwks(), entityTypes, ...(metadata ? { metadata } : {}),
  }, `admin-${superior}`);
}

function directory(cacheSeconds = 0) {
  const fetcher = createFetcher({ ...urlPolicy, timeoutMs: 2000, maxBytes: 65536 });
  const clock = new OffsetClock();
  const resolver = createResolver({ anchors, fetcher, clock, cacheSeconds: 0 });
  return createDirectory({ resolver, fetcher, clock, cacheSeconds });
}

beforeAll(async () => {
  cache = await testCache();
  const self = (n: string) => () => nodes[n]!.id;
  nodes.national = await start('national', [], platform('national', 'national', 'separate', '000000', self('national')), true);
  anchors.push({ entityId: nodes.national.id, jwks: await nodes.national.entity.keys.publicJwks() });
  nodes.zj = await start('zj', [nodes.national.id], platform('zj', 'provincial', 'separate', '330000', self('zj')), true);
  nodes.js = await start('js', [nodes.national.id], platform('js', 'provincial', 'hybrid', '320000', self('js')), true);
  // The city claims Beijing's region; its province's statement says what it really serves.
  nodes.hz = await start('hz', [nodes.zj.id], platform('zj-hz', 'municipal', 'separate', '110000', self('hz')), false);
  nodes.nj = await start('nj', [nodes.js.id], platform('js-nj', 'municipal', 'hybrid', '320100', self('nj')), false);
  await register('national', 'zj', ['federation_entity', 'openid_provider']);
  await register('national', 'js', ['federation_entity', 'openid_provider']);
  await register('zj', 'hz', ['openid_provider'], { federation_entity: { yiwang_platform: { id: 'zj-hz', tier: 'municipal', mode: 'separate', region: '330100' } } });
  await register('js', 'nj', ['openid_provider']);
}, 120_000);

afterAll(async () => {
  for (const n of Object.values(nodes)) {
    await n.server.close().catch(() => undefined);
    await n.db.destroy().catch(() => undefined);
  }
  await cache?.close();
});

describe('region codes', () => {
  it('covers by significant prefix', () => {
    expect(regionPrefix('330100')).toBe('3301');
    expect(regionPrefix('330000')).toBe('33');
    expect(regionPrefix('000000')).toBe('');
    expect(regionCovers('330100', '330106')).toBe(true);
    expect(regionCovers('330100', '330206')).toBe(false);
    expect(regionCovers('000000', '650102')).toBe(true);
    expect(regionCovers('330000', '33010')).toBe(false);
  });
});

describe('home-platform directory', () => {
  it('lists every trusted OpenID Provider with its tier, mode and region as its superiors vouch for it', async () => {
    const entries = await directory().list();
    const by = Object.fromEntries(entries.map((e) => [e.platformId, e]));
    expect(Object.keys(by).sort()).toEqual(['js', 'js-nj', 'national', 'zj', 'zj-hz']);
    expect(by['zj-hz']).toMatchObject({ entityId: nodes.hz!.id, issuer: `${nodes.hz!.id}/op`, tier: 'municipal', region: '330100', home: true, trustAnchor: nodes.national!.id });
    // A hybrid city keeps no accounts: its province is the home.
    expect(by['js-nj']).toMatchObject({ mode: 'hybrid', home: false });
    expect(by.national).toMatchObject({ tier: 'national', home: true });
  });

  it('finds the most specific home of a region, and from an ID number or an issuer', async () => {
    const d = directory(60);
    expect((await d.forRegion('330106'))?.platformId).toBe('zj-hz');
    expect((await d.forRegion('330206'))?.platformId).toBe('zj');
    expect((await d.forRegion('320106'))?.platformId).toBe('js');
    expect((await d.forRegion('110101'))?.platformId).toBe('national');
    expect(await d.forRegion('33')).toBeUndefined();
    expect((await d.forHint('33010619900101123X'))?.platformId).toBe('zj-hz');
    expect((await d.forHint(`${nodes.zj!.id}/op`))?.platformId).toBe('zj');
    expect(await d.forHint(`${nodes.nj!.id}/op`)).toBeUndefined();
    expect(await d.forHint('zhang.san')).toBeUndefined();
    expect((await d.get('zj-hz')).entityId).toBe(nodes.hz!.id);
    await expect(d.get('http://127.0.0.1:1')).rejects.toMatchObject({ code: 'RECOGNITION_HOME_UNKNOWN' });
  });

  it('drops a platform once its superior stops vouching for it, and one whose keys changed without its superior', async () => {
    const d = directory(60);
    expect((await d.forRegion('330106'))?.platformId).toBe('zj-hz');
    await nodes.zj!.entity.registry.remove(nodes.hz!.id, 'admin-zj');
    // Cached until the walk is done again.
    expect((await d.forRegion('330106'))?.platformId).toBe('zj-hz');
    expect((await d.list({ fresh: true })).map((e) => e.platformId)).not.toContain('zj-hz');
    expect((await d.forRegion('330106'))?.platformId).toBe('zj');
    // The hybrid city rotates its key without its province: its chain breaks, it is not listed.
    await nodes.nj!.entity.keys.prepareNext('admin-nj');
    await nodes.nj!.entity.keys.activateNext('admin-nj');
    expect((await directory().list()).map((e) => e.platformId).sort()).toEqual(['js', 'national', 'zj']);
    await register('zj', 'hz', ['openid_provider'], { federation_entity: { yiwang_platform: { id: 'zj-hz', tier: 'municipal', mode: 'separate', region: '330100' } } });
  });

  it('lists nothing from an anchor that is down, and recovers when it answers again', async () => {
    const port = Number(new URL(nodes.national!.id).port);
    await nodes.national!.server.close();
    expect(await directory().list()).toEqual([]);
    const { app, router } = createHttpApp({ name: 'national', log });
    app.use(router.routes());
    app.use(federationRouter(nodes.national!.entity, log).routes());
    nodes.national!.server = await listen(app, port, HOST);
    expect((await directory().list()).map((e) => e.platformId)).toContain('zj-hz');
  });
});
