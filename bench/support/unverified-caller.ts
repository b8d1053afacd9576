import { decodeJwt } from 'jose';
import type { Caller } from '../../kernel/internal-auth.ts';
import { callerFromClaims } from '../../gateway/claims.ts';

/**
 * The caller named by a request's `Authorization: Bearer` token, from its claims WITHOUT verifying
 * them (the benchmark's and compatibility test's gateways only; anonymous without a token).
 */
export function unverifiedCaller(authorization: string | null | undefined): Caller {
  const m = /^Bearer (\S+)$/.exec(authorization ?? '');
  return m?.[1] ? callerFromClaims(decodeJwt(m[1])) : { kind: 'anonymous' };
}
