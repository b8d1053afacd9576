/**
 * This platform as a federation entity: what it publishes (its Entity Configuration), what it
 * issues as a superior (Subordinate Statements, the subordinate list) and, at a trust anchor,
 * resolve responses (OpenID Federation 1.0, sections 3, 8.1, 8.2, 8.3). All statements are
 * signed with the federation key (keys.ts), never an OIDC signing key.
 */
import type { Clock } from '../kernel/clock.ts';
import type { Db } from '../kernel/db.ts';
import { AppError } from '../kernel/errors.ts';
import { migrate } from '../kernel/migrate.ts';
import { checkUrl, createFetcher, type UrlPolicy } from './fetcher.ts';
import { createFederationKeys, type FederationKeys } from './keys.ts';
import { FEDERATION_MIGRATIONS, FEDERATION_SCHEMA } from './migrations.ts';
import { createRegistry, type Registry } from './registry.ts';
import { createResolver, type Resolver } from './resolver.ts';
import { signStatement } from './statement.ts';
import { RESOLVE_RESPONSE_TYP, type EntityStatementClaims, type Metadata, type TrustAnchor } from './types.ts';
import type { Cache } from '../kernel/cache.ts';
import { sameEntity } from './validate.ts';

/** Paths of the federation endpoints below the entity identifier. */
export const FEDERATION_PATHS = { fetch: '/federation/fetch', list: '/federation/list', resolve: '/federation/resolve' } as const;

export interface FederationEntityOptions {
  entityId: string;
  organizationName: string;
  /** Immediate superiors; empty at the trust anchor. */
  authorityHints: readonly string[];
  /** Trust anchors accepted when resolving others (the national platform's keys). */
  trustAnchors: readonly TrustAnchor[];
  db: Db;
  cache?: Cache | undefined;
  clock: Clock;
  /** KEY_PASSPHRASE: encrypts the federation keys at rest. */
  keyPassphrase: string;
  statementTtlSeconds: number;
  chainCacheSeconds: number;
  urlPolicy: UrlPolicy;
  fetchTimeoutMs: number;
  fetchMaxBytes: number;
  /** Protocol metadata this entity publishes besides `federation_entity` (openid_provider, openid_relying_party …). */
  metadata?: () => Promise<Metadata> | Metadata;
  /** Whether this entity issues statements about subordinates (fetch/list). Default: at the anchor, or when it publishes no protocol metadata. */
  isAuthority?: boolean;
  fetch?: typeof fetch;
}

export interface FederationEntity {
  readonly entityId: string;
  readonly keys: FederationKeys;
  readonly registry: Registry;
  readonly resolver: Resolver;
  readonly isAuthority: boolean;
  readonly isTrustAnchor: boolean;
  /** Signed Entity Configuration (application/entity-statement+jwt). */
  entityConfiguration(): Promise<string>;
  /** Signed Subordinate Statement about a registered subordinate; FEDERATION_SUBORDINATE_UNKNOWN otherwise. */
  subordinateStatement(sub: string): Promise<string>;
  listSubordinates(filter?: { entityType?: string | undefined }): Promise<string[]>;
  /** Signed resolve response (8.3.2) for a subject and one of the configured anchors. */
  resolveResponse(sub: string, trustAnchor: string, entityTypes?: readonly string[]): Promise<string>;
}

const seconds = (clock: Clock) => Math.floor(clock.now().getTime() / 1000);

/** Create the schema (idempotent) and the entity. */
export async function createFederationEntity(o: FederationEntityOptions): Promise<FederationEntity> {
  checkUrl(o.entityId, o.urlPolicy, 'entityId');
  for (const h of o.authorityHints) checkUrl(h, o.urlPolicy, 'entityId');
  await migrate(o.db, FEDERATION_SCHEMA, FEDERATION_MIGRATIONS);
  const base = o.entityId.replace(/\/+$/, '');
  const keys = createFederationKeys({ db: o.db, passphrase: o.keyPassphrase, clock: o.clock, statementTtlSeconds: o.statementTtlSeconds });
  const registry = createRegistry(o.db, o.clock, o.urlPolicy);
  const fetcher = createFetcher({ ...o.urlPolicy, timeoutMs: o.fetchTimeoutMs, maxBytes: o.fetchMaxBytes, ...(o.fetch ? { fetch: o.fetch } : {}) });
  const resolver = createResolver({ anchors: o.trustAnchors, fetcher, clock: o.clock, cache: o.cache, cacheSeconds: o.chainCacheSeconds });
  const isTrustAnchor = o.authorityHints.length === 0;
  const extra = async () => (o.metadata ? await o.metadata() : {});
  const isAuthority = o.isAuthority ?? (isTrustAnchor || o.metadata === undefined);

  const times = () => {
    const iat = seconds(o.clock);
    return { iat, exp: iat + o.statementTtlSeconds };
  };

  return {
    entityId: o.entityId,
    keys,
    registry,
    resolver,
    isAuthority,
    isTrustAnchor,
    async entityConfiguration() {
      const protocol = await extra();
      const federationEntity: Record<string, string> = { organization_name: o.organizationName };
      if (isAuthority) {
        federationEntity.federation_fetch_endpoint = `${base}${FEDERATION_PATHS.fetch}`;
        federationEntity.federation_list_endpoint = `${base}${FEDERATION_PATHS.list}`;
      }
      if (isTrustAnchor) federationEntity.federation_resolve_endpoint = `${base}${FEDERATION_PATHS.resolve}`;
      const claims: EntityStatementClaims = {
        iss: o.entityId,
        sub: o.entityId,
        ...times(),
        jwks: await keys.publicJwks(),
        ...(o.authorityHints.length ? { authority_hints: [...o.authorityHints] } : {}),
        metadata: { ...protocol, federation_entity: { ...(protocol.federation_entity ?? {}), ...federationEntity } },
      };
      return signStatement(claims, await keys.signingKey());
    },
    async subordinateStatement(sub) {
      if (!isAuthority) throw new AppError('FEDERATION_SUBORDINATE_UNKNOWN', '本平台不签发下级声明 / this entity has no subordinates', { sub });
      const s = await registry.get(sub);
      if (!s) throw new AppError('FEDERATION_SUBORDINATE_UNKNOWN', '未登记该下级实体 / no such subordinate is registered', { sub });
      const claims: EntityStatementClaims = {
        iss: o.entityId,
        sub: s.entityId,
        ...times(),
        jwks: s.jwks,
        ...(s.metadata ? { metadata: s.metadata } : {}),
        ...(s.metadataPolicy ? { metadata_policy: s.metadataPolicy } : {}),
        ...(s.metadataPolicyCrit?.length ? { metadata_policy_crit: s.metadataPolicyCrit } : {}),
        ...(s.constraints ? { constraints: s.constraints } : {}),
        source_endpoint: `${base}${FEDERATION_PATHS.fetch}`,
      };
      return signStatement(claims, await keys.signingKey());
    },
    async listSubordinates(filter) {
      return (await registry.list(filter)).map((s) => s.entityId);
    },
    async resolveResponse(sub, trustAnchor, entityTypes) {
      if (!o.trustAnchors.some((a) => sameEntity(a.entityId, trustAnchor))) {
        throw new AppError('FEDERATION_UNTRUSTED', '该信任锚未在本平台配置 / that trust anchor is not configured here', { trustAnchor });
      }
      const r = await resolver.resolve(sub, { trustAnchor });
      const metadata = entityTypes?.length ? Object.fromEntries(Object.entries(r.metadata).filter(([t]) => entityTypes.includes(t))) : r.metadata;
      const { iat } = times();
      const claims = {
        iss: o.entityId,
        sub: r.entityId,
        iat,
        exp: Math.min(r.exp, iat + o.statementTtlSeconds),
        metadata,
        trust_chain: r.trustChain,
        ...(r.trustMarks.length ? { trust_marks: r.trustMarks } : {}),
      };
      return signStatement(claims as unknown as EntityStatementClaims, await keys.signingKey(), RESOLVE_RESPONSE_TYP);
    },
  };
}
