/**
 * POST /interaction/:uid/login: ID number, mobile or staff username + password, throttled per
 * account and per address; a failure says LOGIN_FAILED without saying which part was wrong.
 * At a hybrid city only agency staff log in with a local account (context.ts `proceed`).
 */
import type { Router } from '@koa/router';
import { isAppError } from '../../kernel/errors.ts';
import type { AccountRecord } from '../accounts/store.ts';
import { MESSAGES } from '../web/pages.ts';
import { type Ctx, type InteractionContext, form, field } from './context.ts';

export function mountPasswordLogin(router: Router, x: InteractionContext): void {
  const { accounts, log, guard, fail, load, csrfOk, renderLogin, showError, proceed } = x;
  router.post('/interaction/:uid/login', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    if (it.prompt.name !== 'login') return fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
    const login = field(ctx, 'login', 64);
    const password = ((ctx.request.body ?? {}) as Record<string, unknown>).password;
    const found = await accounts.findByLogin(login);
    const subject = found?.id ?? `login:${login.toUpperCase()}`;
    try {
      await guard.check(subject, ctx.ip);
      let account: AccountRecord;
      try {
        account = await accounts.authenticate(login, typeof password === 'string' ? password.slice(0, 256) : '');
      } catch (e) {
        if (isAppError(e) && e.code === 'LOGIN_FAILED') await guard.failed(subject, ctx.ip);
        throw e;
      }
      await proceed(ctx, it, account, { accountId: account.id, amr: ['pwd'] });
    } catch (e) {
      const error = showError(e);
      log.info({ code: error.code }, 'login refused');
      await renderLogin(ctx, it, isAppError(e) ? e.status : 400, { login, error });
    }
  });
}
