/**
 * The interaction pages oidc-provider sends the browser to (`/interaction/:uid`):
 *
 *   GET  /interaction/:uid          login form or consent form, whichever prompt is pending
 *   POST /interaction/:uid/login    login name (ID number | mobile | staff username) + password
 *   POST /interaction/:uid/confirm  consent: decision=approve | deny
 *   POST /interaction/:uid/abort    cancel the login (access_denied back to the client)
 *
 * Rules: every POST needs the interaction's CSRF token (403 otherwise); the uid in the path
 * must be the interaction bound to this browser's cookie; a failed login says LOGIN_FAILED
 * without saying whether the name or the password was wrong; logs never carry the login name,
 * the password or the interaction's codes.
 */
import type { KeyObject } from 'node:crypto';
import type { ParameterizedContext } from 'koa';
import type { Router } from '@koa/router';
import { koaBody } from 'koa-body';
import type { Interaction, Provider } from 'oidc-provider';
import { isAppError } from '../kernel/errors.ts';
import type { Logger } from '../kernel/log.ts';
import { acrFor, type AccountStore } from './accounts.ts';
import { CSRF_FIELD, checkInteractionCsrf, interactionCsrfToken } from './csrf.ts';
import { localise, pageLang } from './html.ts';
import { MESSAGES, consentPage, errorPage, loginPage } from './pages.ts';

export interface InteractionDeps {
  provider: Provider;
  accounts: AccountStore;
  key: KeyObject;
  log: Logger;
}

type Ctx = ParameterizedContext & { params: Record<string, string> };

const form = koaBody({ urlencoded: true, json: false, multipart: false, text: false, formLimit: '16kb' });

export function mountInteractions(router: Router, d: InteractionDeps): void {
  const { provider, accounts, key, log } = d;

  function sendPage(ctx: Ctx, status: number, body: string): void {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = body;
  }

  function fail(ctx: Ctx, status: number, code: string, message: string): void {
    const uid = ctx.params.uid ?? '';
    sendPage(ctx, status, errorPage({ lang: pageLang(ctx), path: `/interaction/${encodeURIComponent(uid)}`, code, message }));
  }

  /** The browser's interaction, which must be the one named in the path; renders an error page otherwise. */
  async function load(ctx: Ctx): Promise<Interaction | undefined> {
    let it: Interaction | undefined;
    try {
      it = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      it = undefined;
    }
    if (!it || it.uid !== ctx.params.uid) {
      fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
      return undefined;
    }
    return it;
  }

  async function clientName(ctx: Ctx, it: Interaction): Promise<string> {
    const client = await provider.Client.find(it.params.client_id);
    return localise(client?.clientName ?? it.params.client_id, pageLang(ctx));
  }

  function csrfOk(ctx: Ctx, it: Interaction): boolean {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (checkInteractionCsrf(key, it.uid, body[CSRF_FIELD])) return true;
    fail(ctx, 403, 'FORBIDDEN', MESSAGES.csrf);
    return false;
  }

  async function finish(ctx: Ctx, result: Record<string, unknown>): Promise<void> {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.set('cache-control', 'no-store');
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  async function renderLogin(ctx: Ctx, it: Interaction, status = 200, extra: { login?: string; error?: { code: string; message: string } } = {}) {
    sendPage(ctx, status, loginPage({ lang: pageLang(ctx), uid: it.uid, csrf: interactionCsrfToken(key, it.uid), clientName: await clientName(ctx, it), ...extra }));
  }

  router.get('/interaction/:uid', async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it) return;
    if (it.prompt.name === 'login') return renderLogin(ctx, it);
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

  router.post('/interaction/:uid/login', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    if (it.prompt.name !== 'login') return fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const login = typeof body.login === 'string' ? body.login.slice(0, 64) : '';
    const password = typeof body.password === 'string' ? body.password.slice(0, 256) : '';
    try {
      const account = await accounts.authenticate(login, password);
      log.info({ accountId: account.id, kind: account.kind }, 'login succeeded');
      await finish(ctx, { login: { accountId: account.id, acr: acrFor(account), amr: ['pwd'], remember: true } });
    } catch (e) {
      if (!isAppError(e) || (e.code !== 'LOGIN_FAILED' && e.code !== 'ACCOUNT_DISABLED')) throw e;
      log.info({ code: e.code }, 'login refused');
      await renderLogin(ctx, it, e.status, { login, error: { code: e.code, message: e.message } });
    }
  });

  router.post('/interaction/:uid/confirm', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    if (it.prompt.name !== 'consent' || !it.session) return fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
    const decision = ((ctx.request.body ?? {}) as Record<string, unknown>).decision;
    if (decision !== 'approve') {
      await finish(ctx, { error: 'access_denied', error_description: 'End-User denied the request' });
      return;
    }
    const { details } = it.prompt;
    const grant = (it.grantId ? await provider.Grant.find(it.grantId) : undefined)
      ?? new provider.Grant({ accountId: it.session.accountId, clientId: it.params.client_id });
    if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();
    await finish(ctx, { consent: it.grantId ? {} : { grantId } });
  });

  router.post('/interaction/:uid/abort', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    await finish(ctx, { error: 'access_denied', error_description: 'End-User aborted the interaction' });
  });
}

