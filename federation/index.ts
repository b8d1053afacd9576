/**
 * OpenID Federation 1.0 for Yiwang (R-ID-12, R-LI-3): national, provincial and municipal
 * platforms trust each other through signed statements chained to the national Trust Anchor,
 * not through shared secrets. The public API; everything else in federation/ is internal.
 *
 * - statements: sign, decode and verify `entity-statement+jwt` (3);
 * - policy and constraints: merge and apply metadata policies (6.1), check constraints (6.2);
 * - validateTrustChain: offline validation of a given chain (10.2);
 * - createResolver: resolve chains over HTTP with limits and a cache (10.1), and what the IdP
 *   needs: a relying party's metadata and keys by entity id (automatic registration), an
 *   OpenID Provider's metadata by entity id;
 * - createFederationEntity / federationFromConfig: this platform's keys, subordinate registry
 *   and signed answers; federationRouter: its HTTP endpoints.
 */
export type {
  Json, Jwks, Metadata, MetadataPolicy, ParameterPolicy, EntityTypePolicy, Constraints, NamingConstraints,
  EntityStatementClaims, Statement, TrustAnchor, ResolvedEntity,
} from './types.ts';
export { ENTITY_STATEMENT_TYP, RESOLVE_RESPONSE_TYP, ENTITY_STATEMENT_MEDIA_TYPE, RESOLVE_RESPONSE_MEDIA_TYPE, WELL_KNOWN_PATH } from './types.ts';
export { signStatement, decodeStatement, verifyStatement, checkJwks, STATEMENT_ALGS } from './statement.ts';
export type { SigningKey } from './statement.ts';
export { mergeMetadataPolicies, applyMetadataPolicy, applySuperiorMetadata, validateMetadataPolicy, STANDARD_OPERATORS } from './policy.ts';
export { applyConstraints, hostMatches } from './constraints.ts';
export { validateTrustChain, sameEntity } from './validate.ts';
export { createFetcher, checkUrl, wellKnownUrl } from './fetcher.ts';
export type { Fetcher, UrlPolicy } from './fetcher.ts';
export { createResolver } from './resolver.ts';
export type { Resolver, ResolveOptions, RelyingParty, OpenIdProvider } from './resolver.ts';
export { createFederationKeys, FEDERATION_KEY_ALG } from './keys.ts';
export type { FederationKeys, KeyInfo } from './keys.ts';
export { createRegistry } from './registry.ts';
export type { Registry, Subordinate, SubordinateRecord } from './registry.ts';
export { createFederationEntity, FEDERATION_PATHS } from './entity.ts';
export type { FederationEntity, FederationEntityOptions } from './entity.ts';
export { federationRouter } from './http.ts';
export { federationFromConfig, licenceServiceMetadata, parseTrustAnchors, urlPolicyFromConfig } from './config.ts';
export type { FederationDeps } from './config.ts';
export { FEDERATION_SCHEMA, FEDERATION_MIGRATIONS } from './migrations.ts';
export { runFederation } from './cli.ts';
export type { FederationCliIo } from './cli.ts';
export { startFederationService } from './service.ts';
export { createDirectory, regionCovers, regionPrefix } from './directory.ts';
export type { Directory, DirectoryOptions, PlatformEntry, PlatformTier, PlatformMode } from './directory.ts';
export { federatedClient, automaticClientMetadata } from './registration.ts';
export type { FederatedClient, AutomaticClient } from './registration.ts';
