/**
 * GET /interaction/:uid/upstream/:upstream and /linked: log in through a trusted real-name
 * platform (R-ID-3, idp/link) and come back from it (or from registering through it) to finish
 * the login at the level the platform vouched for.
 *
 * POST /interaction/:uid/home (R-ID-12, 用其他地区平台账号登录): log in at one's home platform of
 * the federation (idp/link/homes.ts), chosen from the directory (`platform`) or found from the ID
 * number (`hint`, only its region is used); the level the application asks for goes with it, so
 * a step-up happens at home. Back at /linked like any platform login.
 *
 * POST /interaction/:uid/superior: a hybrid city's people log in at its province (the login page
 * offers it first; only the city's agency staff log in here, idp/interactions/password-login.ts).
 */
import type { Router } from '@koa/router';
import type { Interaction } from 'oidc-provider';
import { AppError, isAppError } from '../../kernel/errors.ts';
import { MESSAGES } from '../web/pages.ts';
import { field, form, type Ctx, type InteractionContext } from './context.ts';

/** To the home platform `entityId` for this interaction, with the level the application asks for. */
async function toHome(x: InteractionContext, ctx: Ctx, it: Interaction, entityId: string): Promise<void> {
  const demand = x.demandOf(it);
  const url = await x.linked!.flows.startHome(ctx, entityId, { purpose: 'login', uid: it.uid }, {
    ...(demand.voluntary ? { voluntary: demand.voluntary } : {}), ...(demand.essential ? { essential: demand.essential } : {}),
  });
  ctx.status = 303;
  ctx.redirect(url);
}

export function mountPlatformLogin(router: Router, x: InteractionContext): void {
  const { accounts, fail, load, renderLogin, showError, proceed, linked, csrfOk } = x;
  router.post('/interaction/:uid/home', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it) return;
    if (!csrfOk(ctx, it)) return;
    if (it.prompt.name !== 'login' || !linked?.homes) return fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
    try {
      const platform = field(ctx, 'platform', 300);
      const entry = await linked.homes.choose(platform ? { platform } : { hint: field(ctx, 'hint', 40) });
      await toHome(x, ctx, it, entry.entityId);
    } catch (e) {
      await renderLogin(ctx, it, isAppError(e) ? e.status : 400, { method: 'home', error: showError(e) });
    }
  });

  router.post('/interaction/:uid/superior', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it) return;
    if (!csrfOk(ctx, it)) return;
    if (it.prompt.name !== 'login' || !linked?.homes?.hybrid) return fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
    try {
      await toHome(x, ctx, it, (await linked.homes.superior()).entityId);
    } catch (e) {
      await renderLogin(ctx, it, isAppError(e) ? e.status : 400, { method: 'superior', error: showError(e) });
    }
  });

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
