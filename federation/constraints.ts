/**
 * Trust chain constraints (OpenID Federation 1.0, section 6.2): `max_path_length`,
 * `naming_constraints` (RFC 5280 domain name constraints on the host of each subordinate's
 * Entity Identifier) and `allowed_entity_types`. Each Subordinate Statement's constraints are
 * applied independently; a failed check is FEDERATION_CONSTRAINT_VIOLATION.
 */
import { AppError } from '../kernel/errors.ts';
import type { Constraints, EntityStatementClaims, Metadata } from './types.ts';

function violation(message: string, details: Record<string, unknown>): AppError {
  return new AppError('FEDERATION_CONSTRAINT_VIOLATION', `信任链违反上级约束 / the trust chain breaks a constraint: ${message}`, details);
}

/** RFC 5280 4.2.1.10: `.example.com` matches any host below it, `host.example.com` that host only. */
export function hostMatches(host: string, constraint: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const c = constraint.toLowerCase().replace(/\.$/, '');
  return c.startsWith('.') ? h.endsWith(c) && h.length > c.length : h === c;
}

function hostOf(entityId: string): string {
  try {
    return new URL(entityId).hostname;
  } catch {
    throw violation('an entity identifier is not a URL', { entityId });
  }
}

/**
 * Check the constraints of a chain and return the subject's metadata with the entity types no
 * superior allows removed. `chain[0]` is the subject's Entity Configuration, `chain[k]` (k ≥ 1)
 * the statement about the entity below; the subject's metadata has the superior's `metadata`
 * applied already.
 */
export function applyConstraints(chain: readonly EntityStatementClaims[], metadata: Metadata): Metadata {
  let out = metadata;
  for (let k = 1; k < chain.length; k++) {
    const c = chain[k]!.constraints as Constraints | undefined;
    if (!c) continue;
    const where = { issuer: chain[k]!.iss };
    if (c.max_path_length !== undefined) {
      if (!Number.isInteger(c.max_path_length) || c.max_path_length < 0) throw violation('max_path_length must be an integer ≥ 0', where);
      // Intermediates between the issuer of chain[k] and the subject: the subjects of chain[2..k].
      if (k - 1 > c.max_path_length) throw violation('too many intermediates', { ...where, max_path_length: c.max_path_length, intermediates: k - 1 });
    }
    if (c.naming_constraints !== undefined) {
      const { permitted, excluded } = c.naming_constraints;
      if ((permitted !== undefined && !Array.isArray(permitted)) || (excluded !== undefined && !Array.isArray(excluded))) {
        throw violation('naming_constraints must hold arrays', where);
      }
      for (let j = 1; j <= k; j++) {
        const id = chain[j]!.sub;
        const host = hostOf(id);
        if (excluded?.some((x) => hostMatches(host, x))) throw violation('an entity identifier is in an excluded name space', { ...where, entityId: id });
        if (permitted && permitted.length > 0 && !permitted.some((x) => hostMatches(host, x))) {
          throw violation('an entity identifier is outside the permitted name space', { ...where, entityId: id });
        }
      }
    }
    if (c.allowed_entity_types !== undefined) {
      if (!Array.isArray(c.allowed_entity_types) || c.allowed_entity_types.includes('federation_entity')) {
        throw violation('allowed_entity_types must be an array without federation_entity', where);
      }
      const allowed = new Set(['federation_entity', ...c.allowed_entity_types]);
      out = Object.fromEntries(Object.entries(out).filter(([t]) => allowed.has(t)));
    }
  }
  return out;
}
