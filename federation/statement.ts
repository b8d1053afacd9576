/**
 * Entity Statements (OpenID Federation 1.0, section 3): signed JWTs of type
 * `entity-statement+jwt`. An Entity Configuration is issued by an entity about itself
 * (iss = sub); a Subordinate Statement by a superior about an immediate subordinate.
 *
 * `decodeStatement` checks the structure (3.2 steps that need no key); `verifyStatement` adds the
 * signature against a given key set and the time checks. Failures carry their own codes:
 * FEDERATION_STATEMENT_INVALID (structure), FEDERATION_SIGNATURE_INVALID, FEDERATION_CHAIN_EXPIRED.
 */
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, SignJWT, type CryptoKey, type JWK, type KeyObject } from 'jose';
import { AppError } from '../kernel/errors.ts';
import { ENTITY_STATEMENT_TYP, type EntityStatementClaims, type Jwks, type Statement } from './types.ts';

/** Signature algorithms accepted on statements: asymmetric only, never `none` or HMAC. */
export const STATEMENT_ALGS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'];

/** Tolerated clock difference between tiers for `iat` (seconds). */
export const CLOCK_SKEW_SECONDS = 60;

/** Claims defined by the specification or JWT: `crit` may not name them (3.1.1). */
const STANDARD_CLAIMS = new Set(['iss', 'sub', 'iat', 'exp', 'jwks', 'aud', 'authority_hints', 'metadata', 'metadata_policy', 'constraints', 'crit',
  'metadata_policy_crit', 'trust_marks', 'trust_mark_issuers', 'trust_mark_owners', 'source_endpoint', 'trust_anchor', 'trust_anchor_hints', 'nbf', 'jti']);

export interface SigningKey {
  kid: string;
  alg: string;
  key: CryptoKey | KeyObject | JWK | Uint8Array;
}

function bad(message: string, details?: Record<string, unknown>): AppError {
  return new AppError('FEDERATION_STATEMENT_INVALID', `联邦实体声明格式错误 / malformed entity statement: ${message}`, details);
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function checkJwks(v: unknown, what = 'jwks'): Jwks {
  if (!isObject(v) || !Array.isArray(v.keys) || v.keys.length === 0) throw bad(`${what} must be a JWK Set with at least one key`);
  for (const k of v.keys as unknown[]) {
    if (!isObject(k) || typeof k.kty !== 'string' || typeof k.kid !== 'string' || !k.kid) throw bad(`${what}: every key needs kty and kid`);
    // A private member in a published key set is a leak, not a configuration to honour.
    for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) if (m in k) throw bad(`${what}: contains private key material`);
  }
  return v as unknown as Jwks;
}

/** Sign statement claims with a federation key. */
export async function signStatement(claims: EntityStatementClaims, key: SigningKey, typ = ENTITY_STATEMENT_TYP): Promise<string> {
  return new SignJWT(claims as unknown as Record<string, unknown>)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ })
    .sign(key.key);
}

export interface DecodeOptions {
  /** Extension claims this verifier understands (for `crit`); none by default. */
  understood?: ReadonlySet<string>;
  typ?: string;
}

/** Parse and check the structure of a statement without verifying its signature. */
export function decodeStatement(jwt: string, opts: DecodeOptions = {}): { claims: EntityStatementClaims; kid: string } {
  if (typeof jwt !== 'string' || jwt.split('.').length !== 3) throw bad('not a compact JWS');
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: unknown;
  try {
    header = decodeProtectedHeader(jwt);
    claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
  } catch {
    throw bad('header or payload is not JSON');
  }
  if (header.typ !== (opts.typ ?? ENTITY_STATEMENT_TYP)) throw bad(`typ must be ${opts.typ ?? ENTITY_STATEMENT_TYP}`, { typ: header.typ });
  if (typeof header.alg !== 'string' || !STATEMENT_ALGS.includes(header.alg)) throw bad('unsupported signature algorithm', { alg: header.alg });
  if (typeof header.kid !== 'string' || !header.kid) throw bad('the header has no kid');
  if (!isObject(claims)) throw bad('the payload is not an object');
  for (const c of ['iss', 'sub'] as const) if (typeof claims[c] !== 'string' || !claims[c]) throw bad(`${c} is missing`);
  for (const c of ['iat', 'exp'] as const) if (typeof claims[c] !== 'number' || !Number.isFinite(claims[c])) throw bad(`${c} is missing`);
  if (opts.typ === undefined || opts.typ === ENTITY_STATEMENT_TYP) checkJwks(claims.jwks);
  if (claims.authority_hints !== undefined && (!isStringArray(claims.authority_hints) || claims.iss !== claims.sub)) {
    throw bad('authority_hints must be an array of strings, in an Entity Configuration only');
  }
  for (const c of ['metadata', 'metadata_policy', 'constraints'] as const) {
    if (claims[c] !== undefined && !isObject(claims[c])) throw bad(`${c} must be an object`);
  }
  if (claims.metadata_policy_crit !== undefined && !isStringArray(claims.metadata_policy_crit)) throw bad('metadata_policy_crit must be an array of strings');
  if (claims.crit !== undefined) {
    if (!isStringArray(claims.crit) || claims.crit.length === 0) throw bad('crit must be a non-empty array of strings');
    for (const name of claims.crit) {
      if (STANDARD_CLAIMS.has(name)) throw bad(`crit names the standard claim ${name}`);
      if (!opts.understood?.has(name)) throw bad(`critical claim ${name} is not understood`, { claim: name });
      if (!(name in claims)) throw bad(`critical claim ${name} is absent`, { claim: name });
    }
  }
  return { claims: claims as unknown as EntityStatementClaims, kid: header.kid };
}

/** Time checks (3.2): issued not in the future, not expired. */
export function checkTimes(claims: { iss: string; sub: string; iat: number; exp: number }, nowSeconds: number): void {
  if (claims.iat > nowSeconds + CLOCK_SKEW_SECONDS) {
    throw new AppError('FEDERATION_CHAIN_EXPIRED', '联邦声明的签发时间在未来 / an entity statement is issued in the future', { iss: claims.iss, sub: claims.sub, iat: claims.iat });
  }
  if (claims.exp <= nowSeconds) {
    throw new AppError('FEDERATION_CHAIN_EXPIRED', '联邦声明已过期 / an entity statement has expired', { iss: claims.iss, sub: claims.sub, exp: claims.exp });
  }
  if (claims.exp <= claims.iat) throw bad('exp is not after iat');
}

/** Verify the signature with one of `jwks`, then structure and time. */
export async function verifyStatement(jwt: string, jwks: Jwks, nowSeconds: number, opts: DecodeOptions = {}): Promise<Statement> {
  const { claims, kid } = decodeStatement(jwt, opts);
  try {
    await compactVerify(jwt, createLocalJWKSet(jwks as { keys: JWK[] }), { algorithms: STATEMENT_ALGS });
  } catch {
    throw new AppError('FEDERATION_SIGNATURE_INVALID', '联邦声明的签名无法用上级认可的密钥验证 / the statement is not signed by a key its superior vouches for', { iss: claims.iss, sub: claims.sub, kid });
  }
  checkTimes(claims, nowSeconds);
  return { jwt, claims, kid };
}
