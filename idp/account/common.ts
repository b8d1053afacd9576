/**
 * What every /account page route needs: sending a page that is never cached, turning a refusal
 * into the notice shown on the page, and the logged-in account (or a redirect to the login).
 */
import type { ParameterizedContext } from 'koa';
import { AppError, isAppError } from '../../kernel/errors.ts';
import type { AccountRecord, AccountStore } from '../accounts.ts';
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

/** `who(ctx)`: the session and its (enabled) account, or undefined after redirecting to the login. */
export function currentAccount(sessions: Sessions, accounts: AccountStore) {
  return async function who(ctx: ParameterizedContext) {
    const s = await sessions.current(ctx);
    const account = s?.accountId ? await accounts.findById(s.accountId) : undefined;
    if (!s || !account || account.disabled) {
      ctx.redirect('/account/login');
      return undefined;
    }
    return { session: s, account };
  };
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
