/**
 * POST /interaction/:uid/password: the first login after counter registration changes the initial
 * password (R-ID-2). Only a login that proved that initial password may do it, so an SMS code
 * alone never lets anyone choose the password (R-ID-6).
 */
import type { Router } from '@koa/router';
import { AppError, isAppError } from '../../kernel/errors.ts';
import { interactionCsrfToken } from '../web/csrf.ts';
import { pageLang } from '../web/html.ts';
import { MESSAGES, changePasswordPage } from '../web/pages.ts';
import { type Ctx, type InteractionContext, form } from './context.ts';

export function mountChangePassword(router: Router, x: InteractionContext): void {
  const { accounts, key, log, sendPage, fail, load, csrfOk, showError, proceed, pending } = x;
  router.post('/interaction/:uid/password', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    const s = await pending(ctx, it);
    if (!s) return;
    // Only a login that proved the current (initial) password of an account that must change it.
    if (s.p.stage !== 'password' || !s.account.mustChangePassword || !s.p.amr.includes('pwd')) {
      log.info({ accountId: s.account.id }, 'password change refused: not a first login with the initial password');
      return fail(ctx, 403, 'FORBIDDEN', MESSAGES.interactionGone);
    }
    const password = ((ctx.request.body ?? {}) as Record<string, unknown>).password;
    const repeat = ((ctx.request.body ?? {}) as Record<string, unknown>).password2;
    try {
      if (typeof password !== 'string' || password !== repeat) throw new AppError('BAD_INPUT', '两次输入的密码不一致 / the two passwords differ', { fields: ['password2'] });
      await accounts.setPassword(s.account.id, password);
      log.info({ accountId: s.account.id }, 'initial password changed');
      await proceed(ctx, it, { ...s.account, mustChangePassword: false }, { accountId: s.p.accountId, amr: s.p.amr, ...(s.p.appLevel ? { appLevel: s.p.appLevel } : {}) });
    } catch (e) {
      sendPage(ctx, isAppError(e) ? e.status : 400, changePasswordPage({ lang: pageLang(ctx), uid: it.uid, csrf: interactionCsrfToken(key, it.uid), error: showError(e) }));
    }
  });
}
