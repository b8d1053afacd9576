/**
 * Access-token claims → the Caller that subgraphs see (kernel/internal-auth.ts). The IdP adds
 * `yw_kind` ('person' | 'staff'), `yw_name`, for staff `yw_agency` (credit code) and `yw_roles`,
 * and `acr` (assurance level, R-ID-12), and for a person acting for a company `yw_act`
 * ({ company, scope, delegationId, validUntil, changedAt }, R-ID-8), passed on as `actingFor`
 * ({ company, scope, delegationId }); its end and last change are checked per request
 * (gateway/delegations.ts). Anything that is neither a person nor staff — e.g. a
 * client-credentials token whose `sub` is a client id — is refused: the graph serves people.
 */
import type { JWTPayload } from 'jose';
import { AppError } from '../kernel/errors.ts';
import { STAFF_ROLES, type ActingFor, type Caller, type StaffRole } from '../kernel/internal-auth.ts';
import { isValidCreditCode } from '../kernel/ids.ts';
import type { ActingTerms } from './delegations.ts';

function invalid(why: string): AppError {
  return new AppError('TOKEN_INVALID', `访问令牌无效 / the access token is invalid (${why})`);
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/**
 * `yw_act` → ActingFor and the terms the gateway checks on every request (gateway/delegations.ts:
 * the delegation's end, when it last changed); a malformed one refuses the token (never silently
 * acting for nobody).
 */
function parseActingFor(v: unknown): { actingFor: ActingFor; terms: ActingTerms } | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null) throw invalid('malformed acting-for');
  const { company, scope, delegationId, validUntil, changedAt } = v as Record<string, unknown>;
  if (typeof company !== 'string' || !isValidCreditCode(company)) throw invalid('acting-for without a valid company');
  if (!Array.isArray(scope) || scope.length === 0 || !scope.every(nonEmptyString)) throw invalid('acting-for without a scope');
  if (!nonEmptyString(delegationId)) throw invalid('acting-for without a delegation');
  const until = typeof validUntil === 'string' ? Date.parse(validUntil) : NaN;
  if (Number.isNaN(until)) throw invalid('acting-for without an end');
  if (typeof changedAt !== 'number' || !Number.isFinite(changedAt)) throw invalid('acting-for without its last change');
  return { actingFor: { company, scope: [...scope], delegationId }, terms: { delegationId, validUntil: until, changedAt } };
}

/** The delegation terms of an acting-for token, undefined when it acts for nobody (claims already accepted by callerFromClaims). */
export function actingTermsOf(claims: JWTPayload): ActingTerms | undefined {
  return claims.yw_kind === 'person' ? parseActingFor(claims.yw_act)?.terms : undefined;
}

export function callerFromClaims(claims: JWTPayload): Exclude<Caller, { kind: 'anonymous' }> {
  const { sub } = claims;
  if (!nonEmptyString(sub)) throw invalid('no subject');
  const name = claims.yw_name;
  if (typeof name !== 'string') throw invalid('no name');
  switch (claims.yw_kind) {
    case 'person': {
      const acr = claims.acr;
      if (acr !== undefined && typeof acr !== 'string') throw invalid('malformed acr');
      const actingFor = parseActingFor(claims.yw_act)?.actingFor;
      return actingFor ? { kind: 'person', sub, name, acr, actingFor } : { kind: 'person', sub, name, acr };
    }
    case 'staff': {
      const agency = claims.yw_agency;
      if (!nonEmptyString(agency)) throw invalid('staff token without agency');
      const raw = claims.yw_roles ?? [];
      if (!Array.isArray(raw)) throw invalid('malformed roles');
      // Unknown roles are dropped rather than refused: the IdP may know roles this graph does not.
      const roles = STAFF_ROLES.filter((r: StaffRole) => raw.includes(r));
      return { kind: 'staff', sub, name, agency, roles };
    }
    default:
      throw invalid('unknown kind of caller');
  }
}
