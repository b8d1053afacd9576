/**
 * The data of OpenID Federation 1.0 as this library uses it: entity statements (section 3),
 * metadata policies (6.1) and constraints (6.2). Everything is plain JSON.
 */
import type { JWK } from 'jose';

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

export interface Jwks { keys: JWK[] }

/** Operators of one metadata parameter: `{ "subset_of": [...], "essential": true }`. */
export type ParameterPolicy = Record<string, Json>;
/** Policies of one entity type: parameter name → its operators. */
export type EntityTypePolicy = Record<string, ParameterPolicy>;
/** The `metadata_policy` claim: entity type → parameter → operators. */
export type MetadataPolicy = Record<string, EntityTypePolicy>;
/** The `metadata` claim: entity type → parameters. */
export type Metadata = Record<string, Record<string, Json>>;

export interface NamingConstraints { permitted?: string[]; excluded?: string[] }

export interface Constraints {
  max_path_length?: number;
  naming_constraints?: NamingConstraints;
  allowed_entity_types?: string[];
  [other: string]: unknown;
}

/** Claims of an Entity Configuration (iss = sub) or a Subordinate Statement (iss = the superior). */
export interface EntityStatementClaims {
  iss: string;
  sub: string;
  iat: number;
  exp: number;
  jwks: Jwks;
  authority_hints?: string[];
  metadata?: Metadata;
  metadata_policy?: MetadataPolicy;
  metadata_policy_crit?: string[];
  constraints?: Constraints;
  crit?: string[];
  trust_marks?: Array<{ trust_mark_type: string; trust_mark: string }>;
  source_endpoint?: string;
  [other: string]: unknown;
}

/** A verified statement: its compact JWT and its claims. */
export interface Statement {
  jwt: string;
  claims: EntityStatementClaims;
  /** `kid` of the key that signed it. */
  kid: string;
}

export interface TrustAnchor {
  entityId: string;
  /** The anchor's federation public keys, configured out of band. */
  jwks: Jwks;
}

/** A validated trust chain (10.2) with its resolved metadata (6.1.4). */
export interface ResolvedEntity {
  /** The trust chain subject. */
  entityId: string;
  trustAnchor: string;
  /** Compact JWTs, subject's Entity Configuration first, the anchor's statement last (4). */
  trustChain: string[];
  /** Resolved metadata: the subject's, with its superior's `metadata` and all policies applied. */
  metadata: Metadata;
  /** The subject's federation keys, as vouched for by its immediate superior. */
  jwks: Jwks;
  /** Expiry of the chain (seconds since epoch): the earliest `exp` in it (10.4). */
  exp: number;
  /** Entity identifiers from the subject up to the anchor. */
  path: string[];
  trustMarks: Array<{ trust_mark_type: string; trust_mark: string }>;
}

export const ENTITY_STATEMENT_TYP = 'entity-statement+jwt';
export const RESOLVE_RESPONSE_TYP = 'resolve-response+jwt';
export const ENTITY_STATEMENT_MEDIA_TYPE = 'application/entity-statement+jwt';
export const RESOLVE_RESPONSE_MEDIA_TYPE = 'application/resolve-response+jwt';
export const WELL_KNOWN_PATH = '/.well-known/openid-federation';
