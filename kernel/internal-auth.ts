/**
 * Identity assertions inside the platform. The gateway verifies the user's access token, then
 * sends each subgraph a short-lived HS256 JWT (header `x-yiwang-identity`) naming the caller and
 * bound to the exact operation (hash of query + variables), so a subgraph refuses any request
 * that did not come through the gateway, and a captured assertion cannot be reused for another
 * operation. Services calling each other (e.g. licence → IdP) use the same key with their own audience.
 *
 * The identity assertion is signed and checked with fast-jwt (synchronous HMAC through node:crypto):
 * one is made per subgraph fetch and checked per subgraph request, and WebCrypto's asynchronous
 * HMAC (jose) cost about ten times as much on that path. The tokens are the same compact JWS.
 */
import { createHash, createSecretKey, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { createSigner, createVerifier } from 'fast-jwt';
import { AppError } from './errors.ts';

export const IDENTITY_HEADER = 'x-yiwang-identity';
const ISSUER = 'urn:yiwang:gateway';
const SUBGRAPH_AUDIENCE = 'urn:yiwang:subgraph';
const ASSERTION_TTL_SECONDS = 60;

export type StaffRole = 'receiver' | 'acceptor' | 'reviewer' | 'decider';
export const STAFF_ROLES: readonly StaffRole[] = ['receiver', 'acceptor', 'reviewer', 'decider'];

/**
 * R-ID-8: a person acting for a company under a delegation (idp/delegation): the company's
 * unified social credit code, the service items covered (`*` = all) and the delegation's id.
 * Subgraphs decide what acting-for permits; its absence means the person acts for themselves.
 */
export interface ActingFor { company: string; scope: string[]; delegationId: string }

export type Caller =
  | { kind: 'anonymous' }
  | { kind: 'person'; sub: string; name: string; acr?: string | undefined; actingFor?: ActingFor | undefined }
  | { kind: 'staff'; sub: string; name: string; agency: string; roles: StaffRole[] };

export function internalKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

/** Binds an assertion to one operation. */
export function operationHash(query: string | undefined, variables: unknown): string {
  return createHash('sha256').update(query ?? '').update('\n').update(JSON.stringify(variables ?? {})).digest('base64url');
}

const IDENTITY_TYP = 'yiwang-identity+jwt';

interface IdentityCodec {
  sign(payload: Record<string, unknown>): string;
  verify(token: string): { header: { typ?: unknown }; payload: Record<string, unknown> };
}
const codecs = new WeakMap<KeyObject, IdentityCodec>();

/** fast-jwt's signer and verifier for one key: HS256 only, issuer and audience pinned; times are checked against the caller's clock below. */
function codecFor(key: KeyObject): IdentityCodec {
  let codec = codecs.get(key);
  if (!codec) {
    const secret = key.export() as Buffer;
    codec = {
      sign: createSigner({ key: secret, algorithm: 'HS256', header: { alg: 'HS256', typ: IDENTITY_TYP } }),
      verify: createVerifier({
        key: secret, algorithms: ['HS256'], allowedIss: ISSUER, allowedAud: SUBGRAPH_AUDIENCE, complete: true,
        ignoreExpiration: true, ignoreNotBefore: true, requiredClaims: ['iss', 'aud', 'iat', 'exp'],
      }),
    };
    codecs.set(key, codec);
  }
  return codec;
}

export async function signIdentity(key: KeyObject, caller: Caller, opHash: string, now = new Date()): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return codecFor(key).sign({ caller, op: opHash, iss: ISSUER, aud: SUBGRAPH_AUDIENCE, iat, exp: iat + ASSERTION_TTL_SECONDS });
}

/** Verify the gateway's assertion; throws GATEWAY_IDENTITY_REQUIRED on anything wrong. */
export async function verifyIdentity(key: KeyObject, token: string | undefined, opHash: string, now = new Date()): Promise<Caller> {
  if (!token) throw new AppError('GATEWAY_IDENTITY_REQUIRED', 'requests must come through the gateway');
  let verified: ReturnType<IdentityCodec['verify']>;
  try {
    verified = codecFor(key).verify(token);
  } catch {
    throw new AppError('GATEWAY_IDENTITY_REQUIRED', 'identity assertion invalid');
  }
  const { header, payload } = verified;
  if (header.typ !== IDENTITY_TYP || typeof payload.exp !== 'number' || typeof payload.iat !== 'number') {
    throw new AppError('GATEWAY_IDENTITY_REQUIRED', 'identity assertion invalid');
  }
  // As jose judged it: expired once `exp` is not after now (seconds), no tolerance.
  if (payload.exp <= Math.floor(now.getTime() / 1000)) throw new AppError('GATEWAY_IDENTITY_REQUIRED', 'identity assertion expired');
  if (payload.op !== opHash) throw new AppError('GATEWAY_IDENTITY_REQUIRED', 'identity assertion is for another operation');
  return payload.caller as Caller;
}

/** A service-to-service token (e.g. licence → IdP internal API), audience = the callee. */
export async function signServiceToken(key: KeyObject, service: string, audience: string, now = new Date()): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'yiwang-service+jwt' })
    .setIssuer(`urn:yiwang:service:${service}`).setSubject(service).setAudience(audience)
    .setIssuedAt(iat).setExpirationTime(iat + ASSERTION_TTL_SECONDS).sign(key);
}

export async function verifyServiceToken(key: KeyObject, token: string | undefined, audience: string, now = new Date()): Promise<string> {
  if (!token) throw new AppError('UNAUTHENTICATED', 'service token required');
  try {
    const { payload } = await jwtVerify(token, key, { audience, algorithms: ['HS256'], typ: 'yiwang-service+jwt', currentDate: now });
    return String(payload.sub);
  } catch {
    throw new AppError('UNAUTHENTICATED', 'service token invalid');
  }
}

/** Guards used by resolvers. */
export function requirePerson(c: Caller): Extract<Caller, { kind: 'person' }> {
  if (c.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', '请先登录 / please log in');
  if (c.kind !== 'person') throw new AppError('FORBIDDEN', 'only applicants may do this');
  return c;
}

export function requireLoggedIn(c: Caller): Exclude<Caller, { kind: 'anonymous' }> {
  if (c.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', '请先登录 / please log in');
  return c;
}

export function requireStaffRole(c: Caller, agency: string, role: StaffRole): Extract<Caller, { kind: 'staff' }> {
  if (c.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', '请先登录 / please log in');
  if (c.kind !== 'staff' || c.agency !== agency || !c.roles.includes(role)) {
    throw new AppError('ROLE_REQUIRED', `this action needs the ${role} role in agency ${agency}`);
  }
  return c;
}
