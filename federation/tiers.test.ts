/**
 * A federation of real HTTP servers in one test: the national trust anchor, a province
 * (intermediate), a city IdP (leaf, under the province) and the national portal (leaf relying
 * party, under the anchor), each with its own database, keys and clock; chains resolved and
 * validated over HTTP, and each way trust can fail.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, jwtVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { OffsetClock } from '../kernel/clock.ts';
import { createHttpApp, listen, type Listening } from '../kernel/http.ts';
import { silentLogger } from '../kernel/log.ts';
import { freePort, testCache, testDb, type TestDb } from '../test/support/infra.ts';
import type { Cache } from '../kernel/cache.ts';
import {
  createFederationEntity, createFetcher, checkUrl, federatedClient, createResolver, federationRouter, validateTrustChain, verifyStatement, decodeStatement,
  type FederationEntity, type Metadata, type TrustAnchor, type Json,
} from './index.ts';

const log = silentLogger();
const HOST = '127.0.0.1';
const urlPolicy = { allowedHosts: [], httpHosts: [HOST] };

interface Node { entity: FederationEntity; server: Listening; db: TestDb; clock: OffsetClock; id: string; port: number }
const nodes: Record<string, Node> = {};
const dbs: TestDb[] = [];
let cache: Cache;
const anchors: TrustAnchor[] = [];
let portalMetadata: Metadata;
const extraServers: Server[] = [];

async function start(name: string, o: { hints: string[]; metadata?: () => Metadata; isAuthority?: boolean; port?: number }): Promise<Node> {
  const port = o.port ?? await freePort();
  const id = `http://${HOST}:${port}`;
  const db = await testDb();
  dbs.push(db);
  const clock = new OffsetClock();
  const entity = await createFederationEntity({
    entityId: id, organizationName: name, authorityHints: o.hints, trustAnchors: anchors, db, cache, clock,
    keyPassphrase: `passphrase-of-${name}-0123456789abcdef`, statementTtlSeconds: 3600, chainCacheSeconds: 300, urlPolicy,
    fetchTimeoutMs: 2000, fetchMaxBytes: 65536, ...(o.metadata ? { metadata: o.metadata } : {}), ...(o.isAuthority !== undefined ? { isAuthority: o.isAuthority } : {}),
  });
  const { app, router } = createHttpApp({ name, log });
  app.use(router.routes());
  app.use(federationRouter(entity, log).routes());
  const server = await listen(app, port, HOST);
  return { entity, server, db, clock, id, port };
}

/** A resolver as a visiting platform has it: the national anchor configured, its own cache lifetime. */
async function visitor(cacheSeconds: number, extra: { timeoutMs?: number; maxBytes?: number; allowedHosts?: string[]; httpHosts?: string[]; allowedNetworks?: string[]; clock?: OffsetClock } = {}) {
  const fetcher = createFetcher({ allowedHosts: extra.allowedHosts ?? [], httpHosts: extra.httpHosts ?? [HOST], allowedNetworks: extra.allowedNetworks ?? [], timeoutMs: extra.timeoutMs ?? 2000, maxBytes: extra.maxBytes ?? 65536 });
  // Each visiting platform has its own cache (its own key prefix).
  const own = cacheSeconds > 0 ? await testCache() : undefined;
  if (own) visitorCaches.push(own);
  return createResolver({ anchors, fetcher, clock: extra.clock ?? new OffsetClock(), cache: own, cacheSeconds });
}
const visitorCaches: Cache[] = [];
const codeOf = async (p: Promise<unknown>) => p.then(() => 'no error', (e: { code?: string }) => e.code ?? String(e));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const RP_POLICY = {
  openid_relying_party: {
    token_endpoint_auth_method: { one_of: ['private_key_jwt'], essential: true },
    grant_types: { subset_of: ['authorization_code', 'refresh_token'], default: ['authorization_code'] },
  },
  openid_provider: {
    id_token_signing_alg_values_supported: { subset_of: ['ES256', 'PS256', 'RS256'] },
    contacts: { add: ['federation@gov.example.cn'] },
  },
};

beforeAll(async () => {
  cache = await testCache();
  const national = await start('national', { hints: [] });
  nodes.national = national;
  // Every platform (the anchor too) is configured with the anchor's keys, obtained out of band.
  anchors.push({ entityId: national.id, jwks: await national.entity.keys.publicJwks() });
  nodes.province = await start('province', { hints: [national.id], isAuthority: true });
  nodes.city = await start('city', {
    hints: [nodes.province.id],
    metadata: () => ({
      openid_provider: {
        issuer: nodes.city!.id, authorization_endpoint: `${nodes.city!.id}/auth`, token_endpoint: `${nodes.city!.id}/token`, jwks_uri: `${nodes.city!.id}/jwks`,
        id_token_signing_alg_values_supported: ['ES256', 'RS256', 'HS256'], subject_types_supported: ['pairwise'], contacts: ['ops@city.example.cn'],
        client_registration_types_supported: ['automatic'],
      },
    }),
  });
  const { publicKey } = await generateKeyPair('ES256');
  portalMetadata = {
    openid_relying_party: {
      client_name: '国家政务服务平台门户 / national portal', redirect_uris: ['https://portal.example.cn/callback'], response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt', client_registration_types: ['automatic'],
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'portal-rp-1', use: 'sig', alg: 'ES256' }] } as unknown as Json,
    },
  };
  nodes.portal = await start('portal', { hints: [national.id], metadata: () => portalMetadata });

  await nodes.national.entity.registry.put({
    entityId: nodes.province.id, jwks: await nodes.province.entity.keys.publicJwks(), entityTypes: ['federation_entity'],
    metadataPolicy: RP_POLICY, constraints: { max_path_length: 1, naming_constraints: { permitted: [HOST] } },
  }, 'admin-national');
  await nodes.national.entity.registry.put({
    entityId: nodes.portal.id, jwks: await nodes.portal.entity.keys.publicJwks(), entityTypes: ['openid_relying_party'], metadataPolicy: RP_POLICY,
  }, 'admin-national');
  await nodes.province.entity.registry.put({
    entityId: nodes.city.id, jwks: await nodes.city.entity.keys.publicJwks(), entityTypes: ['openid_provider'],
    metadata: { openid_provider: { organization_name: '某市 / the city' } },
    metadataPolicy: { openid_provider: { subject_types_supported: { subset_of: ['pairwise', 'public'] }, contacts: { add: ['ops@province.example.cn'] } } },
    constraints: { allowed_entity_types: ['openid_provider'] },
  }, 'admin-province');
}, 120000);

afterAll(async () => {
  for (const n of Object.values(nodes)) await n.server.close().catch(() => undefined);
  for (const s of extraServers) s.closeAllConnections?.(), s.close();
  for (const d of dbs) await d.destroy().catch(() => undefined);
  await cache?.close();
  for (const c of visitorCaches) await c.close();
});

describe('publishing', () => {
  it('serves a signed Entity Configuration at /.well-known/openid-federation', async () => {
    const res = await fetch(`${nodes.province!.id}/.well-known/openid-federation`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/entity-statement\+jwt/);
    const jwt = await res.text();
    expect(decodeProtectedHeader(jwt).typ).toBe('entity-statement+jwt');
    const { claims } = decodeStatement(jwt);
    const s = await verifyStatement(jwt, claims.jwks, Math.floor(Date.now() / 1000));
    expect(s.claims).toMatchObject({ iss: nodes.province!.id, sub: nodes.province!.id, authority_hints: [nodes.national!.id] });
    expect(s.claims.metadata!.federation_entity).toMatchObject({ federation_fetch_endpoint: `${nodes.province!.id}/federation/fetch`, federation_list_endpoint: `${nodes.province!.id}/federation/list` });
    expect(s.claims.exp - s.claims.iat).toBe(3600);
    // The anchor advertises resolve; a leaf advertises no fetch endpoint and serves none.
    const anchorEc = decodeStatement(await (await fetch(`${nodes.national!.id}/.well-known/openid-federation`)).text()).claims;
    expect(anchorEc.metadata!.federation_entity!.federation_resolve_endpoint).toBe(`${nodes.national!.id}/federation/resolve`);
    expect(anchorEc.authority_hints).toBeUndefined();
    const cityEc = decodeStatement(await (await fetch(`${nodes.city!.id}/.well-known/openid-federation`)).text()).claims;
    expect(cityEc.metadata!.federation_entity!.federation_fetch_endpoint).toBeUndefined();
    expect((await fetch(`${nodes.city!.id}/federation/fetch?sub=x`)).status).toBe(404);
  });

  it('fetch issues statements about registered subordinates only', async () => {
    const res = await fetch(`${nodes.province!.id}/federation/fetch?sub=${encodeURIComponent(nodes.city!.id)}`);
    expect(res.status).toBe(200);
    const s = await verifyStatement(await res.text(), await nodes.province!.entity.keys.publicJwks(), Math.floor(Date.now() / 1000));
    expect(s.claims).toMatchObject({ iss: nodes.province!.id, sub: nodes.city!.id, jwks: await nodes.city!.entity.keys.publicJwks(), constraints: { allowed_entity_types: ['openid_provider'] } });
    const unknown = await fetch(`${nodes.province!.id}/federation/fetch?sub=${encodeURIComponent('http://127.0.0.1:1')}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'not_found', code: 'FEDERATION_SUBORDINATE_UNKNOWN' });
    const missing = await fetch(`${nodes.province!.id}/federation/fetch`);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: 'invalid_request', code: 'BAD_INPUT' });
  });

  it('list names the subordinates, filtered by entity type', async () => {
    const all = await (await fetch(`${nodes.national!.id}/federation/list`)).json() as string[];
    expect(new Set(all)).toEqual(new Set([nodes.province!.id, nodes.portal!.id]));
    expect(await (await fetch(`${nodes.national!.id}/federation/list?entity_type=openid_relying_party`)).json()).toEqual([nodes.portal!.id]);
    expect(await (await fetch(`${nodes.national!.id}/federation/list?entity_type=openid_provider`)).json()).toEqual([]);
    const unsupported = await fetch(`${nodes.national!.id}/federation/list?intermediate=true`);
    expect(unsupported.status).toBe(400);
    expect((await unsupported.json() as { error?: string }).error).toBe('unsupported_parameter');
  });
});

describe('resolving', () => {
  it('resolves the city IdP through the province to the national anchor, policies applied', async () => {
    const op = await (await visitor(60)).resolveOpenIdProvider(nodes.city!.id);
    expect(op.issuer).toBe(nodes.city!.id);
    expect(op.trustAnchor).toBe(nodes.national!.id);
    expect(op.trustChain).toHaveLength(3);
    expect(op.metadata.id_token_signing_alg_values_supported).toEqual(['ES256', 'RS256']); // HS256 removed by the anchor's subset_of
    expect(op.metadata.organization_name).toBe('某市 / the city'); // the province's metadata
    expect(new Set(op.metadata.contacts as string[])).toEqual(new Set(['ops@city.example.cn', 'federation@gov.example.cn', 'ops@province.example.cn']));
    const again = await validateTrustChain(op.trustChain, anchors, Math.floor(Date.now() / 1000));
    expect(again.path).toEqual([nodes.city!.id, nodes.province!.id, nodes.national!.id]);
  });

  it('resolves the portal as a relying party: client_id = entity id, keys from the chain', async () => {
    const rp = await (await visitor(60)).resolveRelyingParty(nodes.portal!.id);
    expect(rp.clientId).toBe(nodes.portal!.id);
    expect(rp.jwks).toEqual(portalMetadata.openid_relying_party!.jwks);
    expect(rp.metadata.grant_types).toEqual(['authorization_code']); // the anchor's default
    expect(await codeOf((await visitor(60)).resolveOpenIdProvider(nodes.portal!.id))).toBe('FEDERATION_METADATA_MISSING');
    // Automatic registration: the client the IdP will know, with no secret.
    const client = federatedClient(rp);
    expect(client).toMatchObject({
      client_id: nodes.portal!.id, redirect_uris: ['https://portal.example.cn/callback'], grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'private_key_jwt', jwks: portalMetadata.openid_relying_party!.jwks, trust_anchor: nodes.national!.id, expires_at: rp.exp,
    });
    expect(JSON.stringify(client)).not.toMatch(/secret/);
    expect(() => federatedClient({ ...rp, metadata: { ...rp.metadata, redirect_uris: [] } })).toThrow(expect.objectContaining({ code: 'FEDERATION_METADATA_MISSING' }));
    expect(() => federatedClient({ ...rp, metadata: { ...rp.metadata, token_endpoint_auth_method: 'client_secret_basic' } })).toThrow(expect.objectContaining({ code: 'FEDERATION_POLICY_VIOLATION' }));
    expect(() => federatedClient({ ...rp, metadata: { ...rp.metadata, client_registration_types: ['explicit'] } })).toThrow(expect.objectContaining({ code: 'FEDERATION_POLICY_VIOLATION' }));
  });

  it('the anchor\'s resolve endpoint answers a signed resolve response with the chain', async () => {
    const res = await fetch(`${nodes.national!.id}/federation/resolve?sub=${encodeURIComponent(nodes.city!.id)}&trust_anchor=${encodeURIComponent(nodes.national!.id)}&entity_type=openid_provider`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/resolve-response\+jwt/);
    const jwt = await res.text();
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(anchors[0]!.jwks as never), { typ: 'resolve-response+jwt' });
    expect(protectedHeader.typ).toBe('resolve-response+jwt');
    expect(payload).toMatchObject({ iss: nodes.national!.id, sub: nodes.city!.id });
    expect(Object.keys(payload.metadata as object)).toEqual(['openid_provider']);
    expect((await validateTrustChain(payload.trust_chain as string[], anchors, Math.floor(Date.now() / 1000))).entityId).toBe(nodes.city!.id);
    const bad = await fetch(`${nodes.national!.id}/federation/resolve?sub=${encodeURIComponent(nodes.city!.id)}&trust_anchor=${encodeURIComponent('http://127.0.0.1:9')}`);
    expect((await bad.json() as { code?: string }).code).toBe('FEDERATION_UNTRUSTED');
  });
});

describe('failures', () => {
  it('an entity no superior vouches for is untrusted; so is a chain to an anchor not configured here', async () => {
    const stray = await start('stray', { hints: [nodes.province!.id], metadata: () => portalMetadata });
    expect(await codeOf((await visitor(0)).resolve(stray.id))).toBe('FEDERATION_UNTRUSTED');
    const rogueAnchor = await start('rogue-anchor', { hints: [] });
    const rogueLeaf = await start('rogue-leaf', { hints: [rogueAnchor.id], metadata: () => portalMetadata });
    await rogueAnchor.entity.registry.put({ entityId: rogueLeaf.id, jwks: await rogueLeaf.entity.keys.publicJwks(), entityTypes: ['openid_relying_party'] }, 'rogue');
    expect(await codeOf((await visitor(0)).resolve(rogueLeaf.id))).toBe('FEDERATION_UNTRUSTED');
    // A leaf that names the real anchor while only the rogue one registered it.
    const liar = await start('liar', { hints: [nodes.national!.id, rogueAnchor.id], metadata: () => portalMetadata });
    expect(await codeOf((await visitor(0)).resolve(liar.id))).toBe('FEDERATION_UNTRUSTED');
    for (const n of [stray, rogueAnchor, rogueLeaf, liar]) await n.server.close();
  });

  it('refuses entity ids outside the allow-list before any request', async () => {
    expect(await codeOf((await visitor(0)).resolve('http://localhost:80'))).toBe('FEDERATION_ENTITY_ID_REFUSED');
    expect(await codeOf((await visitor(0)).resolve('ftp://127.0.0.1/x'))).toBe('FEDERATION_ENTITY_ID_REFUSED');
    expect(await codeOf((await visitor(0)).resolve(`${nodes.city!.id}?x=1`))).toBe('FEDERATION_ENTITY_ID_REFUSED');
    expect(await codeOf((await visitor(0, { allowedHosts: ['.gov.cn'] })).resolve(nodes.city!.id))).toBe('FEDERATION_ENTITY_ID_REFUSED');
    // Internal addresses over https too, unless the operator names them.
    for (const id of ['https://169.254.169.254', 'https://10.0.0.8', 'https://[::1]', 'https://[::ffff:127.0.0.1]', 'https://localhost', 'https://192.168.1.1:8443']) {
      expect([id, await codeOf((await visitor(0)).resolve(id))]).toEqual([id, 'FEDERATION_ENTITY_ID_REFUSED']);
    }
    // A name is judged by the addresses it resolves to, when the connection opens (kernel/outbound.ts).
    const byName = `http://localhost:${nodes.city!.port}`;
    expect(await codeOf((await visitor(0, { httpHosts: ['localhost'] })).resolve(byName))).toBe('FEDERATION_ENTITY_ID_REFUSED');
    expect(await codeOf((await visitor(0, { httpHosts: ['localhost'], allowedNetworks: ['127.0.0.0/8'] })).resolve(byName))).toBe('FEDERATION_STATEMENT_INVALID'); // reached: its configuration names 127.0.0.1
    expect(checkUrl('https://10.0.0.8', { allowedHosts: ['10.0.0.8'], httpHosts: [] }).hostname).toBe('10.0.0.8');
    expect(checkUrl('https://fed.gov.example.cn', { allowedHosts: [], httpHosts: [] }).hostname).toBe('fed.gov.example.cn');
  });

  it('a broken chain: the province no longer vouched for by the anchor breaks every chain through it', async () => {
    const reg = await nodes.national!.entity.registry.get(nodes.province!.id);
    await nodes.national!.entity.registry.remove(nodes.province!.id, 'admin-national');
    try {
      expect(await codeOf((await visitor(0)).resolve(nodes.city!.id))).toBe('FEDERATION_UNTRUSTED');
    } finally {
      await nodes.national!.entity.registry.put(reg!, 'admin-national');
    }
    expect((await (await visitor(0)).resolve(nodes.city!.id)).entityId).toBe(nodes.city!.id);
  });

  it('an expired statement: a province whose statements ran out', async () => {
    nodes.province!.clock.offsetMs = -2 * 3600 * 1000; // its statements expired an hour ago
    try {
      expect(await codeOf((await visitor(0)).resolve(nodes.city!.id))).toBe('FEDERATION_CHAIN_EXPIRED');
    } finally {
      nodes.province!.clock.offsetMs = 0;
    }
  });

  it('a cached chain is never used past its own expiry', async () => {
    const clock = new OffsetClock();
    const v = await visitor(300, { clock });
    const r = await v.resolve(nodes.city!.id);
    clock.offsetMs = (r.exp - Math.floor(Date.now() / 1000) + 1) * 1000;
    expect(await codeOf(v.resolve(nodes.city!.id))).toBe('FEDERATION_CHAIN_EXPIRED');
  });

  it('a statement signed by a key the superior does not vouch for; rotation done right is seamless', async () => {
    const city = nodes.city!.entity;
    const oldKid = (await city.keys.signingKey()).kid;
    const next = await city.keys.prepareNext('admin-city');
    // Published ahead of use: the chain still resolves, signed with the old key.
    expect((await city.keys.publicJwks()).keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, next.kid]));
    expect((await (await visitor(0)).resolve(nodes.city!.id)).entityId).toBe(nodes.city!.id);
    // Activated before the province registered it: the city's configuration is signed by an unknown key.
    await city.keys.activateNext('admin-city');
    expect(await codeOf((await visitor(0)).resolve(nodes.city!.id))).toBe('FEDERATION_SIGNATURE_INVALID');
    // The province's administrator registers the new key set: trusted again; the old key is still published.
    const reg = await nodes.province!.entity.registry.get(nodes.city!.id);
    await nodes.province!.entity.registry.put({ ...reg!, jwks: await city.keys.publicJwks() }, 'admin-province');
    const r = await (await visitor(0)).resolve(nodes.city!.id);
    expect(r.jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, next.kid]));
    const keys = await city.keys.list();
    expect(keys.find((k) => k.kid === oldKid)).toMatchObject({ state: 'retired' });
    expect(keys.find((k) => k.kid === next.kid)).toMatchObject({ state: 'active' });
  });

  it('metadata that violates the federation policy', async () => {
    const saved = portalMetadata.openid_relying_party!.token_endpoint_auth_method;
    portalMetadata.openid_relying_party!.token_endpoint_auth_method = 'client_secret_basic';
    try {
      const e = await (await visitor(0)).resolveRelyingParty(nodes.portal!.id).catch((x: unknown) => x as { code: string; details: Record<string, unknown> });
      expect(e).toMatchObject({ code: 'FEDERATION_POLICY_VIOLATION', details: { parameter: 'token_endpoint_auth_method' } });
    } finally {
      portalMetadata.openid_relying_party!.token_endpoint_auth_method = saved!;
    }
  });

  it('a constraint: the province may not have an intermediate below it', async () => {
    const sub = await start('sub-intermediate', { hints: [nodes.province!.id], isAuthority: true });
    const leaf = await start('leaf-below', { hints: [sub.id], metadata: () => portalMetadata });
    await nodes.province!.entity.registry.put({ entityId: sub.id, jwks: await sub.entity.keys.publicJwks(), entityTypes: ['federation_entity'] }, 'admin-province');
    await sub.entity.registry.put({ entityId: leaf.id, jwks: await leaf.entity.keys.publicJwks(), entityTypes: ['openid_relying_party'] }, 'admin-sub');
    try {
      expect(await codeOf((await visitor(0)).resolve(leaf.id))).toBe('FEDERATION_CONSTRAINT_VIOLATION'); // max_path_length 1 at the anchor
    } finally {
      await nodes.province!.entity.registry.remove(sub.id, 'admin-province');
      await sub.server.close();
      await leaf.server.close();
    }
  });

  it('a superior that is down: fresh resolution says so; a cached chain serves until the cache lifetime ends', async () => {
    const v = await visitor(1);
    expect((await v.resolve(nodes.city!.id)).entityId).toBe(nodes.city!.id);
    await nodes.province!.server.close();
    try {
      expect((await v.resolve(nodes.city!.id)).entityId).toBe(nodes.city!.id); // cached
      expect(await codeOf(v.resolve(nodes.city!.id, { fresh: true }))).toBe('FEDERATION_UNREACHABLE');
      await sleep(2100);
      expect(await codeOf(v.resolve(nodes.city!.id))).toBe('FEDERATION_UNREACHABLE');
    } finally {
      const { app, router } = createHttpApp({ name: 'province', log });
      app.use(router.routes());
      app.use(federationRouter(nodes.province!.entity, log).routes());
      nodes.province!.server = await listen(app, nodes.province!.port, HOST);
    }
  });

  it('a removed subordinate: fetch stops at once, recognition ends when the cached chain expires; audited', async () => {
    const v = await visitor(1);
    const reg = await nodes.province!.entity.registry.get(nodes.city!.id);
    expect((await v.resolve(nodes.city!.id)).entityId).toBe(nodes.city!.id);
    await nodes.province!.entity.registry.remove(nodes.city!.id, 'admin-province');
    try {
      expect((await fetch(`${nodes.province!.id}/federation/fetch?sub=${encodeURIComponent(nodes.city!.id)}`)).status).toBe(404);
      expect((await v.resolve(nodes.city!.id)).entityId).toBe(nodes.city!.id); // still within the cache lifetime
      await sleep(2100);
      expect(await codeOf(v.resolve(nodes.city!.id))).toBe('FEDERATION_UNTRUSTED');
      const audit = await nodes.province!.entity.registry.audit(5);
      expect(audit[0]).toMatchObject({ action: 'federation.subordinate.remove', entityId: nodes.city!.id, actor: 'admin-province' });
      expect(await codeOf(nodes.province!.entity.registry.remove(nodes.city!.id, 'admin-province'))).toBe('FEDERATION_SUBORDINATE_UNKNOWN');
    } finally {
      await nodes.province!.entity.registry.put(reg!, 'admin-province');
    }
  });

  it('limits: a slow server times out, an oversized or redirecting answer is refused', async () => {
    const serve = async (handler: Parameters<typeof createServer>[1]) => {
      const s = createServer(handler);
      extraServers.push(s);
      await new Promise<void>((r) => s.listen(0, HOST, () => r()));
      return `http://${HOST}:${(s.address() as AddressInfo).port}`;
    };
    const slow = await serve(() => { /* never answers */ });
    const big = await serve((_q, res) => { res.setHeader('content-type', 'application/entity-statement+jwt'); res.end('x'.repeat(100_000)); });
    const moved = await serve((_q, res) => { res.statusCode = 302; res.setHeader('location', 'http://169.254.169.254/'); res.end(); });
    const v = await visitor(0, { timeoutMs: 300, maxBytes: 10_000 });
    const e = await v.resolve(slow).catch((x: { code: string; details: { reason: string } }) => x);
    expect(e).toMatchObject({ code: 'FEDERATION_UNREACHABLE', details: { reason: 'timeout' } });
    expect(await v.resolve(big).catch((x: { details: { reason: string } }) => x.details.reason)).toBe('response too large');
    expect(await v.resolve(moved).catch((x: { details: { reason: string } }) => x.details.reason)).toBe('redirect (not followed)');
  });
});
