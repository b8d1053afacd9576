/**
 * DPoP proofs at the gateway (RFC 9449 §4.3, §7, §8, §11). An access token the IdP bound to a
 * key (`cnf.jkt`, issued when the client sent a DPoP proof to the token endpoint) is only good
 * together with a fresh proof of possession of that key, on every request:
 *
 * - the proof is a JWT with `typ` dpop+jwt, signed with an asymmetric algorithm (DPOP_ALGORITHMS)
 *   by the public key in its own `jwk` header (never a private key, never a symmetric one);
 * - the key's JWK thumbprint (RFC 7638) equals the token's `cnf.jkt`;
 * - `htm` is the request's method; `htu` the request's URL without query and fragment, both
 *   normalised as URLs (scheme and host case, default port);
 * - `ath` is the base64url SHA-256 of the access token, so a proof cannot travel with another token;
 * - `iat` within GATEWAY_DPOP_IAT_WINDOW_SECONDS of the gateway's clock, unless the proof carries
 *   a server nonce we issued (freshness then comes from the nonce; a proof outside the window is
 *   answered with `use_dpop_nonce`, as oidc-provider does, so a client with a wrong clock can go on);
 * - `jti` used once: `SET NX` with a TTL in the shared cache (one atomic step in Redis, the same
 *   in the in-process substitute), so a proof replayed to another gateway process is refused too.
 *   The jti is remembered as long as a proof with it could still be accepted (the iat window
 *   either way, or a nonce's life, whichever is longer). The cache being unreadable refuses the
 *   request (SERVICE_UNAVAILABLE): never let a proof through unchecked.
 *
 * Speed: a client keeps its key for many requests, so the public key imported from a proof is
 * kept (by thumbprint and alg, bounded, 10 minutes) and the thumbprint is computed synchronously:
 * importing the key is most of a proof's cost (`npm run bench tokens`).
 *
 * Server nonces are stateless: HMAC-SHA256 under the gateway's internal key of the current
 * 60-second step, so every gateway process issues and accepts the same values; a nonce is good
 * for its step and the two before it (2 to 3 minutes). With GATEWAY_DPOP_REQUIRE_NONCE a proof
 * without one is answered with `use_dpop_nonce` and a `DPoP-Nonce` header.
 */
import { createHash, createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose';
import type { Cache } from '../kernel/cache.ts';
import type { Clock } from '../kernel/clock.ts';
import { AppError } from '../kernel/errors.ts';
import type { Logger } from '../kernel/log.ts';
import { ExpiringLru } from './lru.ts';

/** Asymmetric JWS algorithms accepted for proofs (RFC 9449 §4.2: no `none`, no MAC). */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'Ed25519', 'EdDSA'] as const;

const NONCE_STEP_SECONDS = 60;
/** A nonce is accepted for its own step and this many before it. */
const NONCE_PAST_STEPS = 2;
const NONCE_LIFETIME_SECONDS = (NONCE_PAST_STEPS + 1) * NONCE_STEP_SECONDS;
const MAX_JTI_LENGTH = 256;

export type DpopFailure = 'missing' | 'malformed' | 'signature' | 'key' | 'htm' | 'htu' | 'ath' | 'jti' | 'replayed';

export interface DpopOptions {
  cache: Cache;
  clock: Clock;
  /** Secret the server nonces are derived from (the same in every gateway process). */
  nonceKey: KeyObject;
  iatWindowSeconds: number;
  requireNonce: boolean;
  log?: Logger;
}

export interface DpopRequest {
  method: string;
  /** The URL the client addressed (scheme, host, path; query and fragment are ignored). */
  url: string;
  /** The `DPoP` header, if any. */
  proof: string | undefined;
  accessToken: string;
  /** The token's `cnf.jkt`. */
  jkt: string;
}

export interface DpopChecker {
  /**
   * Resolves with the nonce the client should use next when it should change (to send as
   * `DPoP-Nonce`), else undefined. Throws DPOP_PROOF_INVALID (details.reason), DPOP_NONCE_REQUIRED
   * (details.nonce) or SERVICE_UNAVAILABLE.
   */
  check(req: DpopRequest): Promise<string | undefined>;
  /** The nonce for now. */
  nonce(): string;
}

const INVALID: Record<DpopFailure, string> = {
  missing: 'DPoP 证明缺失 / the request has no DPoP proof',
  malformed: 'DPoP 证明格式错误 / the DPoP proof is malformed',
  signature: 'DPoP 证明签名无效 / the DPoP proof signature or header is invalid',
  key: 'DPoP 证明的密钥与令牌绑定的密钥不符 / the DPoP proof is signed by another key than the token is bound to',
  htm: 'DPoP 证明的请求方法不符 / the DPoP proof is for another HTTP method',
  htu: 'DPoP 证明的地址不符 / the DPoP proof is for another URL',
  ath: 'DPoP 证明不是为此令牌签发的 / the DPoP proof is for another access token',
  jti: 'DPoP 证明缺少唯一标识 / the DPoP proof has no usable jti',
  replayed: 'DPoP 证明已被使用过 / the DPoP proof has already been used',
};

export function dpopInvalid(reason: DpopFailure): AppError {
  return new AppError('DPOP_PROOF_INVALID', INVALID[reason], { reason });
}

/** A URL without query and fragment, normalised (RFC 9449 §4.3 item 9); undefined when it is not one. */
export function normaliseHtu(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const u = URL.parse(value);
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:')) return undefined;
  u.search = '';
  u.hash = '';
  return u.href;
}

/** RFC 7638 members of each key type the proof algorithms use. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };

/** The JWK thumbprint (RFC 7638, SHA-256) of a public key, or undefined for a key type proofs cannot use. */
export function jwkThumbprint(jwk: unknown): string | undefined {
  if (!jwk || typeof jwk !== 'object') return undefined;
  const j = jwk as Record<string, unknown>;
  const members = typeof j.kty === 'string' ? THUMBPRINT_MEMBERS[j.kty] : undefined;
  if (!members || members.some((m) => typeof j[m] !== 'string')) return undefined;
  return createHash('sha256').update(JSON.stringify(Object.fromEntries(members.map((m) => [m, j[m]])))).digest('base64url');
}

export const accessTokenHash = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** Key of a used proof: per key thumbprint, the jti hashed (a jti is client-chosen text). */
export const dpopJtiKey = (jkt: string, jti: string): string => `dpop:jti:${createHash('sha256').update(`${jkt}\n${jti}`).digest('base64url')}`;

export function createDpopChecker(o: DpopOptions): DpopChecker {
  const window = o.iatWindowSeconds;
  const keys = new ExpiringLru<CryptoKey>(10_000);

  /** The proof's public key, when it is the one the token is bound to (imported once, then kept). */
  async function proofKey(proof: string, jkt: string): Promise<CryptoKey> {
    let header: { alg?: unknown; jwk?: unknown };
    try {
      header = decodeProtectedHeader(proof);
    } catch {
      throw dpopInvalid('malformed');
    }
    if (typeof header.alg !== 'string' || !(DPOP_ALGORITHMS as readonly string[]).includes(header.alg)) throw dpopInvalid('signature');
    const thumbprint = jwkThumbprint(header.jwk);
    if (!thumbprint) throw dpopInvalid('signature');
    if (thumbprint !== jkt) throw dpopInvalid('key');
    const id = `${thumbprint}:${header.alg}`;
    const now = o.clock.now().getTime();
    const hit = keys.get(id, now);
    if (hit) return hit;
    let key: CryptoKey | Uint8Array;
    try {
      key = await importJWK(header.jwk as JWK, header.alg);
    } catch {
      throw dpopInvalid('signature');
    }
    // A private or symmetric key in the header is refused (RFC 9449 §4.2: the public key only).
    if (key instanceof Uint8Array || key.type !== 'public') throw dpopInvalid('signature');
    keys.set(id, key, now + 600_000);
    return key;
  }
  const jtiTtl = Math.max(2 * window, NONCE_LIFETIME_SECONDS) + 5;

  const nonceAt = (step: number): string => createHmac('sha256', o.nonceKey).update(`yiwang.gateway.dpop-nonce\n${step}`).digest('base64url');
  const stepNow = (): number => Math.floor(o.clock.now().getTime() / 1000 / NONCE_STEP_SECONDS);
  function nonceValid(nonce: string): boolean {
    const given = Buffer.from(nonce);
    const now = stepNow();
    let ok = false;
    for (let s = now - NONCE_PAST_STEPS; s <= now; s++) {
      const expected = Buffer.from(nonceAt(s));
      // Every candidate is compared (constant time each) so timing says nothing about which matched.
      if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
    }
    return ok;
  }
  const nonce = (): string => nonceAt(stepNow());
  const nonceRequired = (why: string): AppError => new AppError('DPOP_NONCE_REQUIRED', why, { nonce: nonce() });

  return {
    nonce,
    async check(req) {
      if (!req.proof) throw dpopInvalid('missing');
      const now = o.clock.now();
      const key = await proofKey(req.proof, req.jkt);
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(req.proof, key, { algorithms: [...DPOP_ALGORITHMS], typ: 'dpop+jwt', currentDate: now }));
      } catch (e) {
        const code = (e as { code?: string }).code;
        throw dpopInvalid(code === 'ERR_JWS_INVALID' || code === 'ERR_JWT_INVALID' ? 'malformed' : 'signature');
      }
      if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > MAX_JTI_LENGTH) throw dpopInvalid('jti');
      if (payload.htm !== req.method) throw dpopInvalid('htm');
      const htu = normaliseHtu(payload.htu);
      if (!htu || htu !== normaliseHtu(req.url)) throw dpopInvalid('htu');
      if (payload.ath !== accessTokenHash(req.accessToken)) throw dpopInvalid('ath');
      if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) throw dpopInvalid('malformed');

      if (payload.nonce !== undefined) {
        if (typeof payload.nonce !== 'string' || !nonceValid(payload.nonce)) {
          throw nonceRequired('DPoP 服务器随机数无效或已过期 / the DPoP nonce is invalid or has expired: use the one in DPoP-Nonce');
        }
      } else if (o.requireNonce) {
        throw nonceRequired('DPoP 证明须包含服务器随机数 / the DPoP proof must carry the server nonce in DPoP-Nonce');
      } else if (Math.abs(now.getTime() / 1000 - payload.iat) > window) {
        throw nonceRequired('DPoP 证明的签发时间不在允许范围内 / the DPoP proof iat is not recent: use the server nonce in DPoP-Nonce');
      }

      let first: boolean;
      try {
        first = await o.cache.set(dpopJtiKey(req.jkt, payload.jti), '1', { ttlSeconds: jtiTtl, nx: true });
      } catch (e) {
        o.log?.error({ err: e instanceof Error ? e.message : String(e) }, 'DPoP replay cache unavailable: proofs refused');
        throw new AppError('SERVICE_UNAVAILABLE', 'DPoP 证明暂时无法核验，请稍后再试 / DPoP proofs cannot be checked right now, try again later');
      }
      if (!first) throw dpopInvalid('replayed');
      const current = nonce();
      return payload.nonce === current ? undefined : current;
    },
  };
}
