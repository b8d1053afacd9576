/**
 * Trust chain validation (OpenID Federation 1.0, section 10.2) and metadata resolution (6.1.4):
 * given the compact JWTs of a chain, subject's Entity Configuration first, it checks every
 * signature along the chain down from a configured Trust Anchor's keys, the times, the links,
 * the constraints, and returns the resolved metadata. Pure: no network, no storage.
 */
import { AppError } from '../kernel/errors.ts';
import { applyConstraints } from './constraints.ts';
import { applyMetadataPolicy, applySuperiorMetadata, mergeMetadataPolicies } from './policy.ts';
import { decodeStatement, verifyStatement, type DecodeOptions } from './statement.ts';
import type { EntityStatementClaims, Metadata, ResolvedEntity, TrustAnchor } from './types.ts';

function untrusted(message: string, details: Record<string, unknown>): AppError {
  return new AppError('FEDERATION_UNTRUSTED', `不受信任的联邦实体 / untrusted federation entity: ${message}`, details);
}

/** Entity identifiers compare as given; a trailing slash is not significant. */
export const sameEntity = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

export async function validateTrustChain(
  jwts: readonly string[],
  anchors: readonly TrustAnchor[],
  nowSeconds: number,
  opts: DecodeOptions = {},
): Promise<ResolvedEntity> {
  if (!Array.isArray(jwts) || jwts.length === 0) throw untrusted('empty trust chain', {});
  let chain = jwts.map((j) => ({ jwt: j, ...decodeStatement(j, opts) }));
  const subject = chain[0]!.claims;
  if (subject.iss !== subject.sub) throw untrusted('the chain does not begin with an Entity Configuration', { iss: subject.iss, sub: subject.sub });

  // The anchor's own Entity Configuration may close the chain (4); its issuer is checked below.
  const last = chain[chain.length - 1]!.claims;
  const endsWithAnchorConfig = chain.length > 1 && last.iss === last.sub;
  const anchorId = chain.length === 1 ? subject.iss : last.iss;
  const anchor = anchors.find((a) => sameEntity(a.entityId, anchorId));
  if (!anchor) throw untrusted('the chain ends at an entity that is not a trust anchor here', { trustAnchor: anchorId, subject: subject.sub });
  if (endsWithAnchorConfig) {
    await verifyStatement(chain[chain.length - 1]!.jwt, anchor.jwks, nowSeconds, opts);
    chain = chain.slice(0, -1);
  }

  // Links: each statement is about the issuer of the one below it.
  for (let j = 0; j + 1 < chain.length; j++) {
    if (!sameEntity(chain[j]!.claims.iss, chain[j + 1]!.claims.sub)) {
      throw untrusted('broken trust chain: a statement is not about the entity below it', { position: j + 1, expected: chain[j]!.claims.iss, got: chain[j + 1]!.claims.sub });
    }
    if (j > 0 && chain[j]!.claims.iss === chain[j]!.claims.sub) throw untrusted('broken trust chain: an Entity Configuration in the middle', { position: j });
  }

  // Signatures and times: the subject's configuration with its own keys and with the keys its
  // superior vouches for; each statement with the keys of the statement above; the top one with
  // the anchor's configured keys (never the keys the anchor's server happens to publish).
  const verified: EntityStatementClaims[] = [];
  for (let j = 0; j < chain.length; j++) {
    const s = chain[j]!;
    const isTop = j === chain.length - 1;
    if (j === 0) await verifyStatement(s.jwt, s.claims.jwks, nowSeconds, opts);
    const keys = isTop ? anchor.jwks : chain[j + 1]!.claims.jwks;
    verified.push((await verifyStatement(s.jwt, keys, nowSeconds, opts)).claims);
  }

  // Metadata: the subject's, then its immediate superior's `metadata`, then the allowed entity
  // types, then the policies of all superiors merged from the anchor down (6.1.4.2, 6.2.3).
  let metadata: Metadata = (subject.metadata ?? {}) as Metadata;
  if (verified.length > 1) metadata = applySuperiorMetadata(metadata, verified[1]!.metadata);
  metadata = applyConstraints(verified, metadata);
  const subordinates = verified.slice(1).reverse();
  const crit = subordinates.flatMap((s) => s.metadata_policy_crit ?? []);
  const policy = mergeMetadataPolicies(subordinates.map((s) => s.metadata_policy), crit);
  metadata = applyMetadataPolicy(metadata, policy);

  return {
    entityId: subject.sub,
    trustAnchor: anchor.entityId,
    trustChain: [...jwts],
    metadata,
    jwks: verified.length > 1 ? verified[1]!.jwks : subject.jwks,
    exp: Math.min(...chain.map((s) => s.claims.exp)),
    path: verified.length > 1 ? [subject.sub, ...verified.slice(1).map((s) => s.iss)] : [subject.sub],
    trustMarks: Array.isArray(subject.trust_marks) ? subject.trust_marks : [],
  };
}
