/**
 * First, cheapest gate: is the text a compact JWS (RFC 7515 §7.1) of the kind licences are?
 *
 * - three base64url parts, header and payload JSON objects       → else LICENCE_MALFORMED
 * - alg "none" or an empty signature part                       → LICENCE_UNSIGNED
 * - typ vc+jwt (RFC 7515 §4.1.9: media type, "application/" optional, case-insensitive)
 * - alg one of RS256 / PS256 / ES256 (no HMAC: a licence is verified by the public)
 * - no crit header: no extension is understood (RFC 7515 §4.1.11)  → else LICENCE_MALFORMED
 *
 * Nothing decoded here is trusted yet; it only decides whether verification can start.
 */
import { decodeBase64Url } from '../lib/base64.ts';
import { reject } from '../lib/rejection.ts';

export const LICENCE_ALGORITHMS = ['RS256', 'PS256', 'ES256'] as const;
export type LicenceAlgorithm = (typeof LICENCE_ALGORITHMS)[number];
export const LICENCE_TYP = 'vc+jwt';

/** Bigger than any sane licence with its chain; stops a verifier being fed megabytes. */
const MAX_LENGTH = 256 * 1024;

export interface ParsedCompact {
  header: Record<string, unknown> & { alg: LicenceAlgorithm };
  /** The decoded payload, shape not yet checked. */
  payload: unknown;
}

function json(part: string, zh: string, en: string): unknown {
  const raw = decodeBase64Url(part);
  if (!raw) reject('LICENCE_MALFORMED', `${zh}不是 base64url / the ${en} is not base64url`);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    return reject('LICENCE_MALFORMED', `${zh}不是 JSON / the ${en} is not JSON`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseCompact(jws: unknown): ParsedCompact {
  if (typeof jws !== 'string' || jws.length === 0 || jws.length > MAX_LENGTH) {
    reject('LICENCE_MALFORMED', '证照不是紧凑 JWS / the licence is not a compact JWS');
  }
  const parts = jws.split('.');
  if (parts.length !== 3) reject('LICENCE_MALFORMED', `证照应有 3 段，实为 ${parts.length} 段 / a compact JWS has 3 parts, found ${parts.length}`);
  const [h, p, s] = parts as [string, string, string];
  const header = json(h, '头部', 'header');
  if (!isObject(header)) reject('LICENCE_MALFORMED', '头部不是 JSON 对象 / the header is not a JSON object');
  if (typeof header.alg === 'string' && header.alg.toLowerCase() === 'none') reject('LICENCE_UNSIGNED', '证照未签名（alg none）/ the licence is unsigned (alg none)');
  if (s === '') reject('LICENCE_UNSIGNED', '证照没有签名 / the licence has an empty signature');
  if (!decodeBase64Url(s)) reject('LICENCE_MALFORMED', '签名不是 base64url / the signature is not base64url');
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase().replace(/^application\//, '') : undefined;
  if (typ !== LICENCE_TYP) reject('LICENCE_MALFORMED', `typ 须为 ${LICENCE_TYP} / typ must be ${LICENCE_TYP}`);
  if (!(LICENCE_ALGORITHMS as readonly unknown[]).includes(header.alg)) {
    reject('LICENCE_MALFORMED', `不接受的签名算法 ${String(header.alg)} / algorithm ${String(header.alg)} is not accepted (RS256, PS256, ES256)`);
  }
  if ('crit' in header) reject('LICENCE_MALFORMED', '不支持 crit 扩展 / critical header extensions are not supported');
  const payload = json(p, '载荷', 'payload');
  return { header: header as ParsedCompact['header'], payload };
}
