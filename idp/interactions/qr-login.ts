/**
 * GET /interaction/:uid/qr (status, polled by the page) and POST /interaction/:uid/qr/complete:
 * finish a QR login the mobile app approved (qr-codes.ts); the app's level comes with it.
 */
import type { Router } from '@koa/router';
import { AppError, isAppError } from '../../kernel/errors.ts';
import { MESSAGES } from '../web/pages.ts';
import { type Ctx, type InteractionContext, form } from './context.ts';

export function mountQrLogin(router: Router, x: InteractionContext): void {
  const { accounts, qr, fail, load, csrfOk, renderLogin, showError, proceed } = x;
  router.get('/interaction/:uid/qr', async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it) return;
    ctx.set('cache-control', 'no-store');
    ctx.body = await qr.status(it.uid);
  });

  router.post('/interaction/:uid/qr/complete', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    if (it.prompt.name !== 'login') return fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
    try {
      const approved = await qr.take(it.uid);
      const account = await accounts.findById(approved.accountId);
      if (!account || account.disabled) throw new AppError('ACCOUNT_DISABLED', '账户已停用 / this account is disabled');
      await proceed(ctx, it, account, { accountId: account.id, amr: ['qr'], appLevel: approved.level });
    } catch (e) {
      await renderLogin(ctx, it, isAppError(e) ? e.status : 400, { method: 'qr', error: showError(e) });
    }
  });
}
