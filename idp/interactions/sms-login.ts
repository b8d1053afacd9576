/**
 * POST /interaction/:uid/sms/send and /sms/verify: a login code sent to a bound mobile, then the
 * mobile + code. The send answer is the same whether or not the number is bound (no enumeration).
 */
import type { Router } from '@koa/router';
import { AppError, isAppError } from '../../kernel/errors.ts';
import { isValidMobile } from '../../kernel/ids.ts';
import { MESSAGES } from '../web/pages.ts';
import { type Ctx, type InteractionContext, form, field } from './context.ts';

export function mountSmsLogin(router: Router, x: InteractionContext): void {
  const { accounts, log, otp, guard, fail, load, csrfOk, renderLogin, showError, proceed } = x;
  router.post('/interaction/:uid/sms/send', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    const mobile = field(ctx, 'mobile', 11);
    try {
      if (!isValidMobile(mobile)) throw new AppError('MOBILE_INVALID', '手机号码应为 11 位大陆手机号 / the mobile number must be an 11-digit mainland number');
      const account = await accounts.findByLogin(mobile);
      // The same answer whether or not the number is bound to an account (no enumeration), but a code only to a bound one.
      if (account && !account.disabled) await otp.send('login', mobile, { source: ctx.ip, subject: account.id });
      await renderLogin(ctx, it, 200, { method: 'sms', mobile, smsSent: true });
    } catch (e) {
      await renderLogin(ctx, it, isAppError(e) ? e.status : 400, { method: 'sms', mobile, error: showError(e) });
    }
  });

  router.post('/interaction/:uid/sms/verify', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    if (it.prompt.name !== 'login') return fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
    const mobile = field(ctx, 'mobile', 11);
    const code = field(ctx, 'code', 6);
    try {
      const account = isValidMobile(mobile) ? await accounts.findByLogin(mobile) : undefined;
      const subject = account?.id ?? `login:${mobile}`;
      await guard.check(subject, ctx.ip);
      try {
        if (!account) throw new AppError('OTP_INVALID', '验证码错误、已过期或已使用，请重新获取 / the code is wrong, expired or already used; request a new one');
        await otp.verify('login', mobile, code, account.id);
      } catch (e) {
        await guard.failed(subject, ctx.ip);
        throw e;
      }
      if (account.disabled) throw new AppError('ACCOUNT_DISABLED', '账户已停用 / this account is disabled');
      if (account.status === 'pending') throw new AppError('ACCOUNT_PENDING', '账户尚待窗口工作人员激活 / this account is waiting for activation by counter staff');
      await proceed(ctx, it, account, { accountId: account.id, amr: ['sms'] });
    } catch (e) {
      const error = showError(e);
      log.info({ code: error.code }, 'SMS login refused');
      await renderLogin(ctx, it, isAppError(e) ? e.status : 400, { method: 'sms', mobile, smsSent: true, error });
    }
  });
}
