/**
 * GET /interaction/:uid/upstream/:upstream and /linked: log in through a trusted real-name
 * platform (R-ID-3, idp/link) and come back from it (or from registering through it) to finish
 * the login at the level the platform vouched for.
 */
import type { Router } from '@koa/router';
import { AppError, isAppError } from '../../kernel/errors.ts';
import { MESSAGES } from '../web/pages.ts';
import type { Ctx, InteractionContext } from './context.ts';

export function mountPlatformLogin(router: Router, x: InteractionContext): void {
  const { accounts, fail, load, renderLogin, showError, proceed, linked } = x;
  router.get('/interaction/:uid/upstream/:upstream', async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it) return;
    if (it.prompt.name !== 'login' || !linked) return fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
    try {
      ctx.redirect(await linked.flows.start(ctx, ctx.params.upstream ?? '', { purpose: 'login', uid: it.uid }));
    } catch (e) {
      await renderLogin(ctx, it, isAppError(e) ? e.status : 400, { method: 'fed', error: showError(e) });
    }
  });

  router.get('/interaction/:uid/linked', async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it) return;
    if (it.prompt.name !== 'login' || !linked) return fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
    try {
      const r = await linked.handoff.takeLogin(it.uid);
      const account = await accounts.findById(r.accountId);
      if (!account || account.disabled) throw new AppError('ACCOUNT_DISABLED', '账户已停用 / this account is disabled');
      await proceed(ctx, it, account, { accountId: account.id, amr: ['fed'], fedLevel: r.level });
    } catch (e) {
      await renderLogin(ctx, it, isAppError(e) ? e.status : 400, { method: 'fed', error: showError(e) });
    }
  });
}
