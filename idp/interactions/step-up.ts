/**
 * The second factor when the level asked needs it: POST /interaction/:uid/stepup/send (the code to
 * the account's bound mobile), /stepup (the SMS code, or the password after an SMS login) and
 * /stepup/skip (decline a voluntary step-up: the login goes on at the level reached; the client
 * decides). Wrong codes count towards the lockout like wrong passwords (R-ID-5).
 */
import type { Router } from '@koa/router';
import { AppError, isAppError } from '../../kernel/errors.ts';
import { loginLevel } from '../accounts/assurance.ts';
import { MESSAGES } from '../web/pages.ts';
import { type Ctx, type InteractionContext, form, field } from './context.ts';

/** An interaction result saying the user declined a voluntary step-up of their existing session. */
const STEPUP_DECLINED = 'yw_stepup_declined';

export function mountStepUp(router: Router, x: InteractionContext): void {
  const { accounts, log, cache, otp, guard, pendingKey, fail, load, csrfOk, finish, showError, logIn, proceed, renderStepUp, pending } = x;
  router.post('/interaction/:uid/stepup/send', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    const s = await pending(ctx, it);
    if (!s) return;
    try {
      if (!s.account.mobile) throw new AppError('ASSURANCE_INSUFFICIENT', '账户未绑定手机，无法加强验证 / the account has no bound mobile for the second factor');
      await otp.send('stepup', s.account.mobile, { source: ctx.ip, subject: `${s.account.id}:${it.uid}` });
      await renderStepUp(ctx, it, s.p, 200, undefined, true);
    } catch (e) {
      const error = showError(e);
      await renderStepUp(ctx, it, s.p, isAppError(e) ? e.status : 400, error);
    }
  });

  // Decline a voluntary step-up: the login goes on at the level it reached (the client decides).
  router.post('/interaction/:uid/stepup/skip', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    const s = await pending(ctx, it);
    if (!s) return;
    const { account, p } = s;
    if (p.stage !== 'stepup' || !p.optional) {
      log.info({ accountId: account.id }, 'step-up skip refused: the level is essential');
      return fail(ctx, 403, 'FORBIDDEN', MESSAGES.interactionGone);
    }
    try {
      // A lockout (e.g. from wrong step-up codes) holds here too.
      await guard.check(account.id, ctx.ip);
    } catch (e) {
      return renderStepUp(ctx, it, p, isAppError(e) ? e.status : 400, showError(e));
    }
    log.info({ accountId: account.id, target: p.target }, 'voluntary step-up declined');
    if (!p.sso) return logIn(ctx, it, account, p, loginLevel(account.assuranceLevel, p.amr, p.appLevel, p.fedLevel));
    // The browser's session stays as it was (its login time too); idp/interactions/acr-policy.ts lets it through.
    await cache.del(pendingKey(it.uid));
    await finish(ctx, { [STEPUP_DECLINED]: true });
  });

  router.post('/interaction/:uid/stepup', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    const s = await pending(ctx, it);
    if (!s) return;
    const { account, p } = s;
    try {
      await guard.check(account.id, ctx.ip);
      try {
        if (p.amr.includes('pwd')) {
          await otp.verify('stepup', account.mobile ?? '', field(ctx, 'code', 6), `${account.id}:${it.uid}`);
          p.amr = ['pwd', 'sms'];
        } else {
          const password = ((ctx.request.body ?? {}) as Record<string, unknown>).password;
          await accounts.authenticate(account.mobile ?? account.idNumber ?? '', typeof password === 'string' ? password.slice(0, 256) : '');
          p.amr = ['sms', 'pwd'];
        }
      } catch (e) {
        // A code voided by too many wrong entries is a failure too, or the lockout could be dodged by re-sending (R-ID-5).
        if (isAppError(e) && (e.code === 'LOGIN_FAILED' || e.code === 'OTP_INVALID' || e.code === 'OTP_TOO_MANY_ATTEMPTS')) await guard.failed(account.id, ctx.ip);
        throw e;
      }
      await proceed(ctx, it, account, p);
    } catch (e) {
      await renderStepUp(ctx, it, p, isAppError(e) ? e.status : 400, showError(e), true);
    }
  });
}
