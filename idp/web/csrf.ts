/**
 * CSRF tokens for the IdP's forms (every POST without a valid token is refused with 403):
 *
 * - Interaction forms (login, consent, cancel): HMAC of the interaction uid under the internal
 *   key. Only this server can mint it, it is good for that one interaction only, and the
 *   interaction itself is bound to the browser by oidc-provider's signed interaction cookie.
 * - /register: signed double-submit cookie (OWASP): a random value plus its HMAC, set as a
 *   SameSite=Strict cookie and repeated in the form; both must match and the HMAC must verify,
 *   so a sibling subdomain that can plant cookies still cannot forge one.
 */
import { createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { ParameterizedContext } from 'koa';

export const CSRF_FIELD = '_csrf';
export const REGISTER_CSRF_COOKIE = 'yw_csrf';

function mac(key: KeyObject, purpose: string, value: string): string {
  return createHmac('sha256', key).update(`yiwang.idp.csrf:${purpose}:${value}`).digest('base64url');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function interactionCsrfToken(key: KeyObject, uid: string): string {
  return mac(key, 'interaction', uid);
}

export function checkInteractionCsrf(key: KeyObject, uid: string, token: unknown): boolean {
  return typeof token === 'string' && token.length > 0 && same(token, interactionCsrfToken(key, uid));
}

function validDoubleSubmit(key: KeyObject, token: string | undefined): token is string {
  if (!token) return false;
  const [nonce, sig] = token.split('.');
  return Boolean(nonce && sig) && same(sig!, mac(key, 'register', nonce!));
}

/** The /register token for this browser, setting the cookie when it has none (or a bad one). */
export function registerCsrfToken(ctx: ParameterizedContext, key: KeyObject): string {
  const existing = ctx.cookies.get(REGISTER_CSRF_COOKIE, { signed: false });
  if (validDoubleSubmit(key, existing)) return existing;
  const nonce = randomBytes(24).toString('base64url');
  const token = `${nonce}.${mac(key, 'register', nonce)}`;
  ctx.cookies.set(REGISTER_CSRF_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/register', secure: ctx.secure, signed: false, overwrite: true });
  return token;
}

export function checkRegisterCsrf(ctx: ParameterizedContext, key: KeyObject, token: unknown): boolean {
  const cookie = ctx.cookies.get(REGISTER_CSRF_COOKIE, { signed: false });
  return typeof token === 'string' && validDoubleSubmit(key, cookie) && same(token, cookie);
}

/** Double-submit token for another cookie-less form path (e.g. /recover), as for /register. */
export function pathCsrfToken(ctx: ParameterizedContext, key: KeyObject, path: string): string {
  const existing = ctx.cookies.get(REGISTER_CSRF_COOKIE, { signed: false });
  if (validDoubleSubmit(key, existing)) return existing;
  const nonce = randomBytes(24).toString('base64url');
  const token = `${nonce}.${mac(key, 'register', nonce)}`;
  ctx.cookies.set(REGISTER_CSRF_COOKIE, token, { httpOnly: true, sameSite: 'strict', path, secure: ctx.secure, signed: false, overwrite: true });
  return token;
}

export function checkPathCsrf(ctx: ParameterizedContext, key: KeyObject, token: unknown): boolean {
  return checkRegisterCsrf(ctx, key, token);
}

/** Account pages: bound to the IdP login session (its id), so only that session's pages can post. */
export function sessionCsrfToken(key: KeyObject, sessionId: string): string {
  return mac(key, 'account', sessionId);
}

export function checkSessionCsrf(key: KeyObject, sessionId: string, token: unknown): boolean {
  return typeof token === 'string' && token.length > 0 && same(token, sessionCsrfToken(key, sessionId));
}
