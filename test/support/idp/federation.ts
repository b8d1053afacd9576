/**
 * Test fixture for cross-tier login (R-ID-12): a light federation in one process, every part a
 * real HTTP server with its own database: the national Trust Anchor (a bare federation entity,
 * with fetch and list), a HOME province IdP (Zhejiang, 330000) and a VISITING province IdP
 * (Jiangsu, 320000) directly under it, and on request a HYBRID city IdP under the home province
 * (its accounts are the province's). Each IdP is its own federation entity (Entity Configuration
 * at its issuer), registered at its superior with the keys its Entity Configuration publishes,
 * all configured with the anchor's keys only.
 */
import { OffsetClock } from '../../../kernel/clock.ts';
import { createHttpApp, listen, type Listening } from '../../../kernel/http.ts';
import { silentLogger } from '../../../kernel/log.ts';
import type { Cache } from '../../../kernel/cache.ts';
import {
  createFederationEntity, decodeStatement, federationFromConfig, federationRouter, type FederationEntity, type Jwks, type MetadataPolicy, type TrustAnchor,
} from '../../../federation/index.ts';
import { freePort, testCache, testDb, type TestDb } from '../infra.ts';
import { startTestIdp, type TestIdp } from '../oidc.ts';

const HOST = '127.0.0.1';

export interface Anchor { entity: FederationEntity; server: Listening; db: TestDb; id: string }

export interface Federation {
  national: Anchor;
  anchors: TrustAnchor[];
  home: TestIdp;
  visiting: TestIdp;
  city?: TestIdp;
  /** Register (again) an IdP at the national anchor, with an optional metadata policy. */
  registerAtNational(idp: TestIdp, policy?: MetadataPolicy): Promise<void>;
  /** Drop the visiting IdP's cached chains (federation/resolver.ts keys): the next use resolves again. */
  forgetChains(at: TestIdp): Promise<void>;
  close(): Promise<void>;
}

/** The keys an IdP's Entity Configuration publishes (what its superior's administrator registers). */
async function publishedJwks(issuer: string): Promise<Jwks> {
  const jwt = await (await fetch(`${issuer}/.well-known/openid-federation`)).text();
  return decodeStatement(jwt).claims.jwks;
}

export async function startFederation(o: { city?: boolean; visitingClock?: OffsetClock } = {}): Promise<Federation> {
  const cache: Cache = await testCache();
  const anchors: TrustAnchor[] = [];
  const port = await freePort();
  const nationalId = `http://${HOST}:${port}`;
  const db = await testDb();
  const entity = await createFederationEntity({
    entityId: nationalId, organizationName: '国家政务服务平台 / national platform', authorityHints: [], trustAnchors: anchors, db, cache, clock: new OffsetClock(),
    keyPassphrase: 'passphrase-of-the-national-anchor-0123', statementTtlSeconds: 3600, chainCacheSeconds: 300,
    urlPolicy: { allowedHosts: [], httpHosts: [HOST] }, fetchTimeoutMs: 2000, fetchMaxBytes: 65536,
  });
  const { app, router } = createHttpApp({ name: 'national', log: silentLogger() });
  app.use(router.routes());
  app.use(federationRouter(entity).routes());
  const national: Anchor = { entity, server: await listen(app, port, HOST), db, id: nationalId };
  anchors.push({ entityId: nationalId, jwks: await entity.keys.publicJwks() });

  const idp = async (o2: { id: string; name: string; tier: string; region: string; mode?: string; superior: string; clock?: OffsetClock }) => {
    const p = await freePort();
    const issuer = `http://${HOST}:${p}`;
    return startTestIdp({
      port: p, seed: false, ...(o2.clock ? { clock: o2.clock } : {}),
      env: {
        IDP_PLATFORM_ID: o2.id, IDP_PLATFORM_TIER: o2.tier, IDP_PLATFORM_REGION: o2.region, IDP_BUILD_MODE: o2.mode ?? 'separate',
        FEDERATION_ENTITY_ID: issuer, FEDERATION_AUTHORITY_HINTS: o2.superior, FEDERATION_TRUST_ANCHORS: JSON.stringify(anchors),
        FEDERATION_HTTP_HOSTS: HOST, FEDERATION_ORGANIZATION_NAME: o2.name, FEDERATION_CHAIN_CACHE_SECONDS: '300',
        // The home's back-channel logout reaches the visiting IdP on the loopback address.
        IDP_OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8', IDP_OTP_RESEND_SECONDS: '0',
      },
    });
  };
  const registerAtNational = async (t: TestIdp, policy?: MetadataPolicy) => {
    await national.entity.registry.put({
      entityId: t.issuer, jwks: await publishedJwks(t.issuer), entityTypes: ['federation_entity', 'openid_provider', 'openid_relying_party'],
      ...(policy ? { metadataPolicy: policy } : {}),
    }, 'admin-national');
  };
  const home = await idp({ id: 'zj', name: '浙江省政务服务网 / Zhejiang', tier: 'provincial', region: '330000', superior: nationalId });
  await registerAtNational(home);
  const visiting = await idp({ id: 'js', name: '江苏政务服务网 / Jiangsu', tier: 'provincial', region: '320000', superior: nationalId, ...(o.visitingClock ? { clock: o.visitingClock } : {}) });
  await registerAtNational(visiting);
  let city: TestIdp | undefined;
  if (o.city) {
    city = await idp({ id: 'zj-hy', name: '某市（统分）/ a hybrid city', tier: 'municipal', region: '330300', mode: 'hybrid', superior: home.issuer });
    // The province's administrator registers the city (the IdP's own federation entity, same database).
    const provincial = await federationFromConfig({ config: home.config, keyPassphrase: home.deps.secrets.keyPassphrase, db: home.db, cache: home.cache, clock: home.deps.clock });
    await provincial!.registry.put({ entityId: city.issuer, jwks: await publishedJwks(city.issuer), entityTypes: ['openid_provider', 'openid_relying_party'] }, 'admin-zj');
  }
  return {
    national, anchors, home, visiting, ...(city ? { city } : {}),
    registerAtNational,
    async forgetChains(at) {
      const { createHash } = await import('node:crypto');
      const keys = (entityId: string) => ['*', ...anchors.map((a) => a.entityId)]
        .map((a) => `federation:chain:${createHash('sha256').update(`${a}\n${entityId}`).digest('base64url')}`);
      await at.cache.del(...[home, visiting, ...(city ? [city] : [])].flatMap((t) => keys(t.issuer)));
    },
    async close() {
      await city?.close();
      await visiting.close();
      await home.close();
      await national.server.close().catch(() => undefined);
      await db.destroy().catch(() => undefined);
      await cache.close();
    },
  };
}
