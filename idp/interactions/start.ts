/**
 * GET /interaction/:uid: where oidc-provider sends the browser. The login prompt shows the login
 * form (password, SMS code, QR, trusted platforms), or asks at once for the one factor missing when
 * the browser is logged in already and the level is the only reason to log in again; an
 * essential level the session's account can never reach goes back to the client at once. The
 * consent prompt shows the consent form, or is granted silently for first-party clients.
 */
import type { Router } from '@koa/router';
import { levelOf, nextStep, reachableLevel, stepUpReach } from '../accounts/assurance.ts';
import { interactionCsrfToken } from '../web/csrf.ts';
import { pageLang } from '../web/html.ts';
import { ACR_INSUFFICIENT } from './acr-policy.ts';
import { MESSAGES, consentPage } from '../web/pages.ts';
import type { Ctx, InteractionContext } from './context.ts';

export function mountStart(router: Router, x: InteractionContext): void {
  const { accounts, key, sendPage, fail, load, clientName, renderLogin, demandOf, unmet, askStepUp, approve, trustedClients } = x;
  router.get('/interaction/:uid', async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it) return;
    if (it.prompt.name === 'login') {
      // Logged in already, and the level is the only reason to log in (not max_age, prompt=login, …).
      const levelOnly = it.prompt.reasons.length === 1 && it.prompt.reasons[0] === ACR_INSUFFICIENT;
      const current = levelOnly && it.session?.accountId ? await accounts.findById(it.session.accountId) : undefined;
      if (ctx.query.full !== '1' && current && !current.disabled) {
        const demand = demandOf(it);
        const have = levelOf(it.session?.acr) ?? 2;
        // The session's account can never reach an essential level: back to the client at once (OIDC Core §5.5.1.1).
        const ever = nextStep(demand, have, reachableLevel(current));
        if (ever.step === 'unmet') return unmet(ctx, current.id, demand, ever.level);
        // One factor so far: ask only for the missing one.
        const amr = it.session?.amr ?? [];
        const now = nextStep(demand, have, stepUpReach(current, amr));
        if (now.step === 'stepup') {
          return askStepUp(ctx, it, { accountId: current.id, amr: [...amr], target: now.level, optional: have >= (demand.essential ?? 0), sso: true });
        }
      }
      return renderLogin(ctx, it);
    }
    if (it.prompt.name === 'consent' && trustedClients?.includes(it.params.client_id)) return approve(ctx, it);
    if (it.prompt.name === 'consent') {
      const { missingOIDCScope = [], missingResourceScopes = {} } = it.prompt.details;
      const resourceScopes = Object.values(missingResourceScopes).flat();
      const scopes = [...new Set([...missingOIDCScope, ...resourceScopes])];
      sendPage(ctx, 200, consentPage({
        lang: pageLang(ctx), uid: it.uid, csrf: interactionCsrfToken(key, it.uid), clientName: await clientName(ctx, it),
        scopes, resources: Object.keys(missingResourceScopes),
      }));
      return;
    }
    fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
  });
}
