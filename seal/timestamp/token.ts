/**
 * The platform timestamp (R-LI-1): a signed time assertion equivalent to an RFC 3161
 * TimeStampToken, as a compact JWS so verifiers need nothing but the JOSE code they already run.
 *
 *   header  { alg, typ: "tst+jwt", x5c: [TSA certificate, …] }
 *   payload { iss: "urn:yiwang:tsa", jti, iat, genTime, messageImprint: { hashAlgorithm: "sha-256", hashedMessage } }
 *
 * The TSA certificate is part of the seal hierarchy (issued by the national root or a provincial
 * CA) and carries extKeyUsage id-kp-timeStamping only, critical (RFC 3161 §2.3). The message
 * imprint is SHA-256 of the licence's JWS payload part (its base64url text), so the token is
 * bound to exactly that content; the seal's signature then covers the token (it sits in the
 * protected header), so neither can be swapped. The verifier judges the seal certificate at
 * genTime — a time the platform's TSA vouches for, not the signer — which keeps a licence
 * verifiable after its seal certificate has expired (long-term validation, ETSI EN 319 102-1
 * "signature time-stamp").
 */
import { createHash, randomBytes } from 'node:crypto';
import { compactVerify } from 'jose';
import type { Clock } from '../../kernel/clock.ts';
import { buildPath } from '../chain/path.ts';
import type { ChainCertificate } from '../chain/certificate.ts';
import { checkNotRevoked, type RevocationCheck } from '../chain/revocation.ts';
import type { ParsedCrl } from '../x509/index.ts';
import { checkValidAt } from '../chain/validity.ts';
import { decodeBase64Url } from '../lib/base64.ts';
import { OID_KP_TIME_STAMPING } from '../lib/oids.ts';
import { reject, Rejection } from '../lib/rejection.ts';
import { LICENCE_ALGORITHMS } from '../licence/compact.ts';
import { loadSignerChain, signJws, type Signer } from '../licence/jws.ts';

export const TST_TYP = 'tst+jwt';
export const TSA_ISSUER = 'urn:yiwang:tsa';

/** Asks the TSA for a token over a SHA-256 digest. */
export type Timestamper = (digest: Buffer) => Promise<string>;

export const messageImprint = (payloadPart: string): Buffer => createHash('sha256').update(payloadPart, 'ascii').digest();

/** A timestamper holding the TSA key (in the licence service; an HSM-backed one can replace it). */
export function createTimestamper(tsa: Signer, clock: Clock): Timestamper {
  const chain = loadSignerChain(tsa);
  return async (digest) => {
    const now = clock.now();
    if (now < chain[0]!.cert.validFromDate || now > chain[0]!.cert.validToDate) {
      throw new Error('the TSA certificate is not valid now');
    }
    const claims = {
      iss: TSA_ISSUER, jti: randomBytes(16).toString('hex'), iat: Math.floor(now.getTime() / 1000), genTime: now.toISOString(),
      messageImprint: { hashAlgorithm: 'sha-256', hashedMessage: digest.toString('base64url') },
    };
    return signJws(new TextEncoder().encode(JSON.stringify(claims)), tsa, chain, { typ: TST_TYP });
  };
}

function bad(message: string): never {
  return reject('LICENCE_TIMESTAMP_INVALID', `平台时间戳无效：${message}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function json(part: string | undefined): unknown {
  const raw = part === undefined ? null : decodeBase64Url(part);
  if (!raw) return null;
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    return null;
  }
}

/**
 * Check a token against the licence's payload part; returns the time it vouches for. Every
 * failure is LICENCE_TIMESTAMP_INVALID (the message says which check).
 */
export async function verifyTimestamp(
  token: unknown, payloadPart: string, anchors: readonly ChainCertificate[], isRevoked: RevocationCheck | undefined, crls: readonly ParsedCrl[] = [],
  /** Builds (or recalls) the TSA's validated path; a cache may stand in for buildPath. */
  tsaPath: (x5c: unknown) => ChainCertificate[] = (x5c) => buildPath(x5c, anchors, OID_KP_TIME_STAMPING),
): Promise<Date> {
  if (typeof token !== 'string' || token.length > 32 * 1024) bad('不是紧凑 JWS / not a compact JWS');
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[2]) bad('不是紧凑 JWS / not a compact JWS');
  const header = json(parts[0]);
  if (!isObject(header) || header.typ !== TST_TYP) bad(`typ 须为 ${TST_TYP} / typ must be ${TST_TYP}`);
  if (!(LICENCE_ALGORITHMS as readonly unknown[]).includes(header.alg) || 'crit' in header) bad(`不接受的算法 / refused algorithm ${String(header.alg)}`);
  let path: ChainCertificate[];
  try {
    path = tsaPath(header.x5c);
  } catch (e) {
    if (e instanceof Rejection) bad(`时间戳证书链：${e.message} / TSA chain: ${e.reason}`);
    throw e;
  }
  let verified: Uint8Array;
  try {
    ({ payload: verified } = await compactVerify(token, path[0]!.cert.publicKey, { algorithms: [...LICENCE_ALGORITHMS] }));
  } catch {
    return bad('签名无法用时间戳证书验证 / the token signature does not verify with the TSA certificate');
  }
  const claims: unknown = JSON.parse(new TextDecoder().decode(verified));
  if (!isObject(claims) || claims.iss !== TSA_ISSUER || typeof claims.genTime !== 'string') bad('载荷不完整 / incomplete payload');
  const genTime = new Date(claims.genTime);
  if (Number.isNaN(genTime.getTime())) bad('genTime 无效 / invalid genTime');
  const mi = claims.messageImprint;
  if (!isObject(mi) || mi.hashAlgorithm !== 'sha-256' || mi.hashedMessage !== messageImprint(payloadPart).toString('base64url')) {
    bad('摘要与证照内容不符 / the message imprint does not match the licence');
  }
  try {
    checkValidAt(path, genTime);
    // RFC 3161 §4: a TSA certificate revoked for a reason other than key compromise leaves its earlier tokens valid.
    await checkNotRevoked(path, isRevoked, crls, genTime, true);
  } catch (e) {
    if (e instanceof Rejection) bad(`${e.message} (${e.reason})`);
    throw e;
  }
  return genTime;
}
