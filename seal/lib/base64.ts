/** Strict base64 readers: Buffer.from() silently skips bad characters, a verifier must not. */

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** base64url without padding (RFC 7515 §2); null when the text is not that. */
export function decodeBase64Url(s: string): Buffer | null {
  if (!BASE64URL.test(s) || s.length % 4 === 1) return null;
  return Buffer.from(s, 'base64url');
}

/** Standard padded base64 (RFC 4648 §4), as x5c uses (RFC 7515 §4.1.6); null when not that. */
export function decodeBase64(s: string): Buffer | null {
  if (!BASE64.test(s)) return null;
  return Buffer.from(s, 'base64');
}
