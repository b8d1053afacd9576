/**
 * One platform of `npm run tiers`, as its own process (started by bin/tiers.ts with an IPC
 * channel): the whole platform (IdP, subgraphs, gateway) on the embedded default in its own data
 * directory; its IdP is its federation entity (Entity Configuration at the issuer with
 * `authority_hints`; `fetch` and `list` at an authority; `resolve` at the anchor).
 *
 * Protocol with the parent: the spec arrives in TIERS_PLATFORM (JSON); this process answers
 * `{ type: 'ready', … }` once every service answers `/healthz`, registers subordinates on
 * `{ type: 'register', … }` (answered `{ type: 'registered', entityId }`), and stops on
 * SIGINT, SIGTERM or when the parent goes away.
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';

import { loadConfig } from '../../kernel/config.ts';
import { openDeps } from '../../kernel/service.ts';
import { isAppError } from '../../kernel/errors.ts';
import { federationFromConfig, type FederationEntity, type Jwks } from '../../federation/index.ts';
import { startPlatform, type Platform } from '../platform.ts';
import { type PlatformReady, type PlatformSpec, type RegisterMessage } from './plan.ts';
import { answerSealMessages, pendingSealCa, sealEnvironment } from './seal.ts';

const HOST = '127.0.0.1';
const send = (m: unknown) => new Promise<void>((ok) => (process.send ? process.send(m, () => ok()) : ok()));

/** Configuration of one platform: its ports, URLs, data directory and federation place. */
function platformEnvironment(spec: PlatformSpec, ports: PlatformSpec['ports']): Record<string, string> {
  const at = (p: number) => `http://${HOST}:${p}`;
  const idp = at(ports.idp);
  return {
    NODE_ENV: process.env.NODE_ENV === 'test' ? 'test' : 'development',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    BIND_HOST: HOST,
    DATA_DIR: spec.dataDir,
    SEED_DEMO: 'true',
    IDP_PLATFORM_ID: spec.id,
    IDP_PLATFORM_TIER: spec.tier,
    IDP_ISSUER: idp, IDP_INTERNAL_URL: idp, IDENTITY_URL: `${idp}/graphql`,
    IDP_PORT: String(ports.idp), ITEM_PORT: String(ports.item), CASE_PORT: String(ports.case), LICENCE_PORT: String(ports.licence),
    EVALUATION_PORT: String(ports.evaluation), GATEWAY_PORT: String(ports.gateway),
    ITEM_URL: `${at(ports.item)}/graphql`, CASE_URL: `${at(ports.case)}/graphql`, LICENCE_URL: `${at(ports.licence)}/graphql`,
    EVALUATION_URL: `${at(ports.evaluation)}/graphql`, GATEWAY_RESOURCE: `${at(ports.gateway)}/graphql`,
    LICENCE_PUBLIC_URL: at(ports.licence), CASE_PUBLIC_URL: at(ports.case),
    PORTAL_PORT: String(ports.portal), PORTAL_PUBLIC_URL: at(ports.portal), PORTAL_GATEWAY_URL: `${at(ports.gateway)}/graphql`,
    IDP_BUILD_MODE: spec.mode,
    IDP_PLATFORM_REGION: spec.region,
    // The platform's Entity Identifier is its IdP's issuer: the IdP serves its Entity Configuration.
    FEDERATION_ENTITY_ID: idp,
    FEDERATION_ORGANIZATION_NAME: spec.name,
    FEDERATION_AUTHORITY_HINTS: spec.authorityHints.join(','),
    // Every platform of this run is on the loopback address, over plain http (development only).
    FEDERATION_HTTP_HOSTS: HOST,
    ...(spec.trustAnchors === 'self' ? {} : { FEDERATION_TRUST_ANCHORS: JSON.stringify(spec.trustAnchors) }),
    // Cross-tier login (R-ID-12): a home's back-channel logout reaches the visiting IdP on the loopback address.
    IDP_OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8',
    // Its seal CA under the national root (./seal.ts).
    ...sealEnvironment(spec),
  };
}

async function answers(url: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await r.body?.cancel();
      if (r.ok) return;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`${url}/healthz does not answer`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.TIERS_PLATFORM ?? 'null') as PlatformSpec | null;
  if (!spec) throw new Error('TIERS_PLATFORM is not set: this process is started by `npm run tiers`');
  const ports = spec.ports;
  // The embedded default: the platform's own PGlite and in-process cache, whatever the shell says.
  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const config = loadConfig({ ...env, ...platformEnvironment(spec, ports) });
  let deps: Awaited<ReturnType<typeof openDeps>>;
  try {
    deps = await openDeps(`tiers:${spec.id}`, config);
  } catch (e) {
    console.error(`failed to start: ${isAppError(e) ? `${e.code}: ${e.message}` : (e as Error).stack ?? e}`);
    process.exit(1);
  }
  let platform: Platform | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    const t0 = performance.now();
    await platform?.close().catch(() => undefined);
    await deps.cache.close().catch(() => undefined);
    await deps.db.close().catch(() => undefined);
    if (process.env.TIERS_TRACE) console.error(`stopped in ${Math.round(performance.now() - t0)} ms`);
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  process.once('disconnect', () => void stop(0));

  try {
    // The platform's federation entity is its IdP (idp/oidc/federation.ts: Entity Configuration
    // at the issuer, fetch and list at an authority, resolve at the anchor). Here: its keys and
    // its registry of subordinates, in the same database.
    let runConfig = config;
    if (spec.trustAnchors === 'self') {
      // The anchor trusts its own keys: made (or read) first, then configured like any platform's.
      const bare = await federationFromConfig({ config, keyPassphrase: deps.secrets.keyPassphrase, db: deps.db, cache: deps.cache, clock: deps.clock });
      const jwks = await bare!.keys.publicJwks();
      runConfig = { ...config, FEDERATION_TRUST_ANCHORS: JSON.stringify([{ entityId: config.FEDERATION_ENTITY_ID, jwks }]) };
    }
    const entity: FederationEntity | null = await federationFromConfig({
      config: runConfig, keyPassphrase: deps.secrets.keyPassphrase, db: deps.db, cache: deps.cache, clock: deps.clock,
    });
    if (!entity) throw new Error('FEDERATION_ENTITY_ID is not set');
    await entity.keys.signingKey();
    platform = await startPlatform({ ...deps, config: runConfig }, { ports: 'configured', seed: true });
    const issuer = platform.config.IDP_ISSUER;

    const services: Record<string, string> = Object.fromEntries(Object.entries(platform.services).map(([k, s]) => [k, s.url]));
    const deadline = Date.now() + 60_000;
    await Promise.all(Object.values(services).map((u) => answers(u, deadline)));
    // The IdP's Entity Configuration (with its OpenID Provider metadata) must answer before the platform is ready.
    const ec = await fetch(`${issuer}/.well-known/openid-federation`, { signal: AbortSignal.timeout(10_000) });
    await ec.body?.cancel();
    if (ec.status !== 200) throw new Error(`the IdP's Entity Configuration answered ${ec.status}`);

    process.on('message', (m: RegisterMessage) => {
      if (m?.type !== 'register') return;
      void register(entity!, m).then(
        () => send({ type: 'registered', entityId: m.entityId }),
        (e: unknown) => send({ type: 'failed', entityId: m.entityId, error: isAppError(e) ? `${e.code}: ${e.message}` : String(e) }),
      );
    });
    answerSealMessages(deps, platform.config, send);
    const ready: PlatformReady = {
      type: 'ready', id: spec.id, entityId: entity.entityId, issuer, gateway: platform.services.gateway.url, services,
      jwks: await entity.keys.publicJwks() as PlatformReady['jwks'],
      sealCaRequest: await pendingSealCa(deps, platform.config),
    };
    await send(ready);
  } catch (e) {
    console.error(`failed to start: ${isAppError(e) ? `${e.code}: ${e.message}` : (e as Error).stack ?? e}`);
    await stop(1);
  }
}

/** Register (or keep) a subordinate; written, and audited, only when something changed. */
async function register(entity: FederationEntity, m: RegisterMessage): Promise<void> {
  const before = await entity.registry.get(m.entityId);
  const same = before
    && JSON.stringify(before.jwks) === JSON.stringify(m.jwks)
    && JSON.stringify(before.entityTypes) === JSON.stringify(m.entityTypes)
    && JSON.stringify(before.constraints ?? null) === JSON.stringify(m.constraints ?? null);
  if (same) return;
  await entity.registry.put({ entityId: m.entityId, jwks: m.jwks as Jwks, entityTypes: m.entityTypes, ...(m.constraints ? { constraints: m.constraints } : {}) }, 'tiers');
}

await main();
