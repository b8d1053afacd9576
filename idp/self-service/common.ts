/**
 * What every page route behind the IdP login needs (/account, /counter/desk): sending a page that
 * is never cached, turning a refusal into the notice shown on the page, the logged-in account (or
 * a redirect to the login), form fields, and the session-bound CSRF check.
 */
import type { KeyObject } from 'node:crypto';
import type { ParameterizedContext } from 'koa';
import { AppError, isAppError } from '../../kernel/errors.ts';
import type { AccountRecord, AccountStore } from '../accounts/store.ts';
import { CSRF_FIELD, checkSessionCsrf } from '../web/csrf.ts';
import { pageLang } from '../web/html.ts';
import { MESSAGES, errorPage } from '../web/pages.ts';
import type { BearerCaller } from './bearer.ts';
import type { Sessions } from './sessions.ts';
import type { Notice } from './views.ts';

export function sendPage(ctx: ParameterizedContext, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('cache-control', 'no-store');
  ctx.body = body;
}

/** A refusal (AppError) as a page notice; anything else is rethrown for the error handler. */
export function toNotice(e: unknown): Notice {
  if (!isAppError(e)) throw e;
  return { code: e.code, message: e.message };
}

/**
 * `who(ctx)`: the session and its (enabled) account, or undefined after redirecting to the login
 * (which comes back to `next`, one of the pages /account/login allows, else to /account).
 */
export function currentAccount(sessions: Sessions, accounts: AccountStore, next?: string) {
  return async function who(ctx: ParameterizedContext) {
    const s = await sessions.current(ctx);
    const account = s?.accountId ? await accounts.findById(s.accountId) : undefined;
    if (!s || !account || account.disabled) {
      ctx.redirect(next ? `/account/login?next=${encodeURIComponent(next)}` : '/account/login');
      return undefined;
    }
    return { session: s, account };
  };
}

/** A string field of a posted form, trimmed and bounded ('' when absent). */
export function formField(ctx: ParameterizedContext, name: string, max = 256): string {
  const v = ((ctx.request.body ?? {}) as Record<string, unknown>)[name];
  return typeof v === 'string' ? v.trim().slice(0, max) : '';
}

/** The form's CSRF token is the one bound to this login session; otherwise a 403 page is sent and false returned. */
export function sessionCsrfOk(ctx: ParameterizedContext, key: KeyObject, sessionId: string, path: string): boolean {
  if (checkSessionCsrf(key, sessionId, ((ctx.request.body ?? {}) as Record<string, unknown>)[CSRF_FIELD])) return true;
  sendPage(ctx, 403, errorPage({ lang: pageLang(ctx), path, code: 'FORBIDDEN', message: MESSAGES.csrf }));
  return false;
}

/** `me(ctx)` for the JSON API: the bearer token's (enabled) account, else UNAUTHENTICATED. */
export function bearerAccount(caller: (ctx: ParameterizedContext) => Promise<BearerCaller>, accounts: AccountStore) {
  return async function me(ctx: ParameterizedContext): Promise<AccountRecord> {
    const c = await caller(ctx);
    const a = await accounts.findById(c.sub);
    if (!a || a.disabled) throw new AppError('UNAUTHENTICATED', '请先登录 / log in first');
    return a;
  };
}
