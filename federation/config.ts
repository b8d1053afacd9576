/**
 * The federation entity from the platform configuration (FEDERATION_* in kernel/config.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Cache } from '../kernel/cache.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Config } from '../kernel/config.ts';
import type { Db } from '../kernel/db.ts';
import { AppError } from '../kernel/errors.ts';
import { parseNetworks } from '../kernel/outbound.ts';
import { createFederationEntity, type FederationEntity } from './entity.ts';
import { checkUrl, type UrlPolicy } from './fetcher.ts';
import { checkJwks } from './statement.ts';
import type { Json, Metadata, TrustAnchor } from './types.ts';

const list = (v: string | undefined) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);

export function urlPolicyFromConfig(config: Config): UrlPolicy {
  return { allowedHosts: list(config.FEDERATION_ALLOWED_HOSTS), httpHosts: list(config.FEDERATION_HTTP_HOSTS), allowedNetworks: parseNetworks(config.FEDERATION_ALLOWED_NETWORKS) };
}

/** FEDERATION_TRUST_ANCHORS: a JSON file path or the JSON itself. */
export function parseTrustAnchors(value: string | undefined, policy: UrlPolicy, cwd = process.cwd()): TrustAnchor[] {
  if (!value?.trim()) return [];
  const text = value.trim().startsWith('[') ? value : (() => {
    const p = resolve(cwd, value);
    if (!existsSync(p)) throw new AppError('CONFIG_INVALID', `FEDERATION_TRUST_ANCHORS: no such file ${p}`);
    return readFileSync(p, 'utf8');
  })();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AppError('CONFIG_INVALID', 'FEDERATION_TRUST_ANCHORS is not JSON');
  }
  if (!Array.isArray(parsed)) throw new AppError('CONFIG_INVALID', 'FEDERATION_TRUST_ANCHORS must be an array of { entityId, jwks }');
  return parsed.map((a: { entityId?: unknown; jwks?: unknown }, i) => {
    try {
      checkUrl(a.entityId, policy);
      return { entityId: a.entityId as string, jwks: checkJwks(a.jwks) };
    } catch (e) {
      throw new AppError('CONFIG_INVALID', `FEDERATION_TRUST_ANCHORS[${i}]: ${(e as Error).message}`);
    }
  });
}

export interface FederationDeps {
  config: Config;
  keyPassphrase: string;
  db: Db;
  cache?: Cache;
  clock: Clock;
  metadata?: () => Promise<Metadata> | Metadata;
  isAuthority?: boolean;
}

/**
 * What the platform publishes about its licence service in `federation_entity.yiwang_licence`
 * (R-LI-3): where it is, where its status lists are (every licence it issues names a list under
 * `status_lists`) and its trust bundle. Other platforms take these only from a validated trust
 * chain (federation/directory.ts), and fetch a licence's status list only from a member's base.
 */
export function licenceServiceMetadata(config: Config): Record<string, Json> {
  const base = config.LICENCE_PUBLIC_URL.replace(/\/+$/, '');
  return { service: base, status_lists: `${base}/status/`, trust_bundle: `${base}/trust-bundle.pem` };
}

/** The protocol metadata with the licence service's in `federation_entity`. */
function withLicenceService(config: Config, metadata: () => Promise<Metadata> | Metadata): () => Promise<Metadata> {
  return async () => {
    const m = await metadata();
    return { ...m, federation_entity: { ...(m.federation_entity ?? {}), yiwang_licence: licenceServiceMetadata(config) } };
  };
}

/** The configured entity, or null when FEDERATION_ENTITY_ID is unset. */
export async function federationFromConfig(d: FederationDeps): Promise<FederationEntity | null> {
  const c = d.config;
  if (!c.FEDERATION_ENTITY_ID) return null;
  const urlPolicy = urlPolicyFromConfig(c);
  return createFederationEntity({
    entityId: c.FEDERATION_ENTITY_ID,
    organizationName: c.FEDERATION_ORGANIZATION_NAME,
    authorityHints: list(c.FEDERATION_AUTHORITY_HINTS),
    trustAnchors: parseTrustAnchors(c.FEDERATION_TRUST_ANCHORS, urlPolicy),
    db: d.db,
    cache: d.cache,
    clock: d.clock,
    keyPassphrase: d.keyPassphrase,
    statementTtlSeconds: c.FEDERATION_STATEMENT_TTL_SECONDS,
    chainCacheSeconds: c.FEDERATION_CHAIN_CACHE_SECONDS,
    urlPolicy,
    fetchTimeoutMs: c.FEDERATION_FETCH_TIMEOUT_MS,
    fetchMaxBytes: c.FEDERATION_FETCH_MAX_BYTES,
    ...(d.metadata ? { metadata: withLicenceService(c, d.metadata) } : {}),
    ...(d.isAuthority !== undefined ? { isAuthority: d.isAuthority } : {}),
  });
}
