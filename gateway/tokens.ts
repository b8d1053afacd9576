/**
 * Verification of the IdP's access tokens (JWT access tokens, RFC 9068) and the cache of
 * verified tokens.
 *
 * - Signature through the IdP's JWKS (jose's remote JWK set caches the keys and refetches at most
 *   once per cool-down when an unknown `kid` shows up, so random kids cannot hammer the IdP).
 * - `iss` = IDP_ISSUER, `aud` = GATEWAY_RESOURCE (RFC 8707 resource indicator), `exp`/`nbf` with a
 *   small clock tolerance against deps.clock, `alg` pinned to RS256/ES256 (no `none`, no HS*
 *   confusion with a public key), `typ` = `at+jwt` which is exactly what oidc-provider emits
 *   (lib/models/formats/jwt.js); jose also accepts the media-type spelling `application/at+jwt`
 *   that RFC 9068 §2.1 allows.
 * - A verified token is cached (hash of the token → Caller) until its `exp`, in a bounded LRU;
 *   refusals are cached for a couple of seconds only, so a key rotation or a clock fix is seen fast.
 * - The JWKS being unreachable is not the caller's fault: it is reported as INTERNAL (500), never
 *   as an invalid token, and never cached.
 * - A token acting for a company (`yw_act`, R-ID-8) is checked on every request, cached or not,
 *   against its delegation's end and the IdP's revoke / change markers (gateway/delegations.ts).
 * - Every token is checked on every request, cached or not, against the revocation markers the
 *   IdP writes when it revokes a grant or disables an account (gateway/revocation.ts).
 * - A token bound to a key (DPoP, `cnf.jkt`) is verified here like any other; `verifyToken` hands
 *   its thumbprint to the caller (gateway/auth.ts), which demands the proof (gateway/dpop.ts).
 *   A `cnf` that is present but carries no usable `jkt` is refused: a binding we cannot check
 *   must not turn into a bearer token.
 */
import { createHash } from 'node:crypto';
import { decodeJwt, jwtVerify, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import { AppError, isAppError, type ErrorCode } from '../kernel/errors.ts';
import type { Caller } from '../kernel/internal-auth.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Logger } from '../kernel/log.ts';
import { actingTermsOf, callerFromClaims } from './claims.ts';
import type { ActingTerms, DelegationGuard } from './delegations.ts';
import type { RevocationGuard, RevocationTerms } from './revocation.ts';
import { ExpiringLru } from './lru.ts';

export const ACCESS_TOKEN_TYP = 'at+jwt';
export const ACCESS_TOKEN_ALGORITHMS = ['RS256', 'ES256'];

export type KnownCaller = Exclude<Caller, { kind: 'anonymous' }>;

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  jwks: JWTVerifyGetKey;
  clock: Clock;
  log?: Logger;
  /** Verified tokens kept (default 10 000). */
  maxEntries?: number;
  /** How long a refusal is remembered (default 2 s; keep it a few seconds at most). */
  failureTtlMs?: number;
  /** Allowed clock skew for exp/nbf/iat (default 5 s). */
  clockToleranceSeconds?: number;
  /** Checks acting-for tokens against their delegation on every request; without it such tokens are refused. */
  delegations?: DelegationGuard;
  /** Checks every token against the revocation markers on every request. */
  revocation?: RevocationGuard;
}

/** A verified access token: its caller and what binds or identifies it. */
export interface VerifiedToken {
  caller: KnownCaller;
  /** `cnf.jkt`: the JWK thumbprint of the key the token is bound to (DPoP), if it is bound. */
  jkt: string | undefined;
  /** `client_id`: the client the token was issued to. */
  clientId: string | undefined;
}

interface Entry { token: VerifiedToken; acting: ActingTerms | undefined; revocation: RevocationTerms }

export interface TokenVerifier {
  /** The caller named by a valid token; throws AppError TOKEN_* (or SERVICE_UNAVAILABLE when the JWKS is unreachable). */
  verify(token: string): Promise<KnownCaller>;
  /** The same checks; the caller with the token's key binding and client. */
  verifyToken(token: string): Promise<VerifiedToken>;
  /** Verified tokens currently cached (for tests and metrics). */
  readonly cachedTokens: number;
}

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  TOKEN_INVALID: '访问令牌无效，请重新登录 / the access token is invalid, please log in again',
  TOKEN_EXPIRED: '登录已过期，请重新登录 / the access token has expired, please log in again',
  TOKEN_ISSUER: '访问令牌不是本平台签发的 / the access token was not issued by this platform',
  TOKEN_AUDIENCE: '访问令牌不是为本服务签发的 / the access token was issued for another resource',
};

function tokenError(code: 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'TOKEN_ISSUER' | 'TOKEN_AUDIENCE'): AppError {
  return new AppError(code, MESSAGES[code] ?? code);
}

/** Thrown by the wrapped key getter when the JWKS itself could not be obtained. */
class KeySourceUnavailable extends Error {
  constructor(cause: unknown) {
    super('JWKS unavailable', { cause });
    this.name = 'KeySourceUnavailable';
  }
}

/** Errors from the key getter that are about the token (its kid/alg), not about the IdP. */
function isTokenKeyError(e: unknown): boolean {
  return e instanceof joseErrors.JWKSNoMatchingKey || e instanceof joseErrors.JWKSMultipleMatchingKeys
    || e instanceof joseErrors.JOSENotSupported || e instanceof joseErrors.JOSEAlgNotAllowed;
}

/**
 * Wrap a key getter so that the JWKS being unreachable (timeout, connection refused, non-200,
 * malformed JSON) is told apart from a token naming a key the IdP does not have.
 */
function guardKeySource(jwks: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (e) {
      if (isTokenKeyError(e)) throw e;
      throw new KeySourceUnavailable(e);
    }
  };
}

/** Map a verification failure to the registry's codes; `undefined` means "could not judge" (JWKS unavailable). */
export function classifyVerifyError(e: unknown): AppError | undefined {
  if (e instanceof KeySourceUnavailable) return undefined;
  if (isAppError(e)) return e;
  if (e instanceof joseErrors.JWTExpired) return tokenError('TOKEN_EXPIRED');
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'iss') return tokenError('TOKEN_ISSUER');
    if (e.claim === 'aud') return tokenError('TOKEN_AUDIENCE');
    return tokenError('TOKEN_INVALID');
  }
  // Signature, alg, malformed compact form, unknown kid, claims of the wrong type (jose throws
  // TypeError for e.g. a numeric `aud`): all the token's fault.
  return tokenError('TOKEN_INVALID');
}

/**
 * A token from another IdP (or one minted for another resource) would otherwise fail on its
 * unknown signing key and be reported as TOKEN_INVALID. Reading the unverified iss/aud first names
 * the real problem. This can only refuse earlier: acceptance still needs the full verification.
 */
function precheckIssuerAndAudience(token: string, issuer: string, audience: string): void {
  let claims: ReturnType<typeof decodeJwt>;
  try {
    claims = decodeJwt(token);
  } catch {
    return; // malformed: jwtVerify reports it
  }
  if (typeof claims.iss === 'string' && claims.iss !== issuer) throw tokenError('TOKEN_ISSUER');
  const aud = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (aud.length > 0 && !aud.includes(audience)) throw tokenError('TOKEN_AUDIENCE');
}

/** `cnf.jkt` (RFC 9449 §6.1) when the token is bound; TOKEN_INVALID for a confirmation we cannot check. */
function keyBinding(payload: Record<string, unknown>): string | undefined {
  if (payload.cnf === undefined) return undefined;
  const cnf = payload.cnf as Record<string, unknown> | null;
  if (cnf && typeof cnf === 'object' && typeof cnf.jkt === 'string' && /^[A-Za-z0-9_-]{43}$/.test(cnf.jkt)) return cnf.jkt;
  throw tokenError('TOKEN_INVALID');
}

function cacheKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const verified = new ExpiringLru<Entry>(opts.maxEntries ?? 10_000);
  const refused = new ExpiringLru<AppError>(Math.min(opts.maxEntries ?? 10_000, 1_000));
  const failureTtl = Math.min(opts.failureTtlMs ?? 2_000, 5_000);
  const tolerance = opts.clockToleranceSeconds ?? 5;
  const jwks = guardKeySource(opts.jwks);

  /** The token, once it is known not to be revoked and an acting-for token's delegation to hold (not cached: checked each time). */
  async function stillHolds(entry: Entry, now: Date): Promise<VerifiedToken> {
    await opts.revocation?.check(entry.revocation, now);
    if (entry.acting) {
      if (!opts.delegations) throw new AppError('TOKEN_DELEGATION_ENDED', '本服务不受理代表法人的令牌 / acting-for tokens are not accepted here');
      await opts.delegations.check(entry.acting, now);
    }
    return entry.token;
  }

  async function verifyToken(token: string): Promise<VerifiedToken> {
    const now = opts.clock.now();
    const key = cacheKey(token);
    const hit = verified.get(key, now.getTime());
    if (hit) return stillHolds(hit, now);
    const bad = refused.get(key, now.getTime());
    if (bad) throw bad;
    let entry: Entry;
    try {
      precheckIssuerAndAudience(token, opts.issuer, opts.audience);
      const { payload } = await jwtVerify(token, jwks, {
        issuer: opts.issuer,
        audience: opts.audience,
        algorithms: ACCESS_TOKEN_ALGORITHMS,
        typ: ACCESS_TOKEN_TYP,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: tolerance,
        currentDate: now,
      });
      const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
      const caller = callerFromClaims(payload);
      const revocation: RevocationTerms = {
        grant: typeof payload.yw_grant === 'string' ? payload.yw_grant : undefined,
        sub: caller.sub,
        issuedAt: typeof payload.iat === 'number' ? payload.iat * 1000 : 0,
      };
      entry = { token: { caller, jkt: keyBinding(payload), clientId }, acting: actingTermsOf(payload), revocation };
      const expiresAt = (payload.exp as number) * 1000;
      if (expiresAt > now.getTime()) verified.set(key, entry, expiresAt);
    } catch (e) {
      const judged = classifyVerifyError(e);
      if (!judged) {
        opts.log?.error({ err: e }, 'access token could not be verified: JWKS unavailable');
        throw new AppError('SERVICE_UNAVAILABLE', '身份服务暂不可用，请稍后再试 / the identity provider is unavailable, try again later');
      }
      refused.set(key, judged, now.getTime() + failureTtl);
      throw judged;
    }
    return stillHolds(entry, now);
  }

  return {
    get cachedTokens() {
      return verified.size;
    },
    verifyToken,
    async verify(token: string): Promise<KnownCaller> {
      return (await verifyToken(token)).caller;
    },
  };
}
