/**
 * Linked registration and linking (R-ID-3, G 5.1.2(1)② 关联注册):
 *
 *   GET  /register/link/:upstream     register through a trusted real-name platform (→ the platform)
 *   GET  /link/callback               the platform's redirect back (redirect URI of every platform)
 *   GET  /register/link               the agreement page: what the platform vouched for, ID masked
 *   POST /register/link               accept the agreement → the account exists (form, CSRF)
 *   GET  /account/links               the logged-in person's linked platforms, and the others
 *   POST /account/links/:upstream     link a platform to the logged-in account (form, CSRF)
 *   POST /account/links/:upstream/remove   remove that link from the logged-in account (form, CSRF)
 *   GET  /account/api/links           the same list as JSON (bearer token)
 *   DELETE /account/api/links/:upstream    remove a link (bearer token) → 204
 *
 * Logging in through a platform starts on the login page (/interaction/:uid/upstream/:upstream,
 * idp/interactions/); a person the platform knows but this IdP does not is taken through the
 * agreement page and then logged in. Registrations count towards IDP_REGISTER_PER_HOUR.
 * Removing a link (only the caller's own; NOT_FOUND when not linked, LINK_LAST_LOGIN when it is
 * the account's last way to log in) is written to the audit log (R-ID-9) in its transaction;
 * afterwards that platform's login no longer reaches the account (ACCOUNT_EXISTS: link again).
 */
import type { KeyObject } from 'node:crypto';
import type { ParameterizedContext } from 'koa';
import type { Router } from '@koa/router';
import { koaBody } from 'koa-body';
import { AppError, isAppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/log.ts';
import { AGREEMENT, type AccountStore } from '../accounts/store.ts';
import type { BearerCaller } from '../self-service/bearer.ts';
import { bearerAccount, currentAccount, sendPage } from '../self-service/common.ts';
import type { AuditLog } from '../audit/log.ts';
import type { Sessions } from '../self-service/sessions.ts';
import { CSRF_FIELD, checkRegisterCsrf, checkSessionCsrf, registerCsrfToken, sessionCsrfToken } from '../web/csrf.ts';
import { pageLang } from '../web/html.ts';
import type { RateLimiter } from '../protect/guard.ts';
import type { LinkFlows } from './flow.ts';
import type { Handoff } from './handoff.ts';
import type { LinkStore } from './links.ts';
import { agreementPage, linksPage, refusedPage, registeredPage, type PageNotice } from './pages.ts';
import type { Upstreams } from './upstreams.ts';
import type { Recognition } from './recognition.ts';

export interface LinkRouteDeps {
  upstreams: Upstreams;
  flows: LinkFlows;
  handoff: Handoff;
  links: LinkStore;
  accounts: AccountStore;
  sessions: Sessions;
  limiter: RateLimiter;
  registerPerHour: number;
  caller(ctx: ParameterizedContext): Promise<BearerCaller>;
  key: KeyObject;
  log: Logger;
  /** Removing a link is recorded here (idp/audit/log.ts), at `now()`. */
  audit: AuditLog;
  /** R-ID-12: people from their home platform of the federation (recognition.ts). */
  recognition?: Recognition | undefined;
  now(): Date;
}

const form = koaBody({ urlencoded: true, json: false, multipart: false, text: false, formLimit: '16kb' });
const param = (ctx: ParameterizedContext, k: string) => String((ctx.params as Record<string, string> | undefined)?.[k] ?? '');
/** After a form post: 303, so the browser follows with a GET. */
const seeOther = (ctx: ParameterizedContext, url: string) => { ctx.status = 303; ctx.redirect(url); };

export function mountLinkRoutes(router: Router, d: LinkRouteDeps): void {
  const { upstreams, flows, handoff, links, accounts, key, log } = d;
  const who = currentAccount(d.sessions, accounts);
  const summary = (id: string) => upstreams.summary(id);
  const me = bearerAccount(d.caller, accounts);

  /** The account's own link to `upstream` removed, with its audit entry in the same transaction. */
  async function unlink(accountId: string, upstream: string) {
    const removed = await links.unlink(accountId, upstream, (q, l) => d.audit.append(q, {
      actorId: accountId, action: 'account.link.remove', target: accountId, details: { upstream: l.upstream, issuer: l.issuer, via: l.via },
    }, d.now()));
    log.info({ accountId, upstream: removed.upstream }, 'platform link removed by its owner');
    return removed;
  }

  function refuse(ctx: ParameterizedContext, e: unknown, retry?: string): void {
    if (!isAppError(e)) throw e;
    log.info({ code: e.code }, 'linked registration or login refused');
    sendPage(ctx, e.status, refusedPage({ lang: pageLang(ctx), code: e.code, message: e.message, ...(retry ? { retry } : {}) }));
  }

  /** The /account/links forms carry the session's CSRF token; otherwise a 403 page is sent and false returned. */
  function csrfOk(ctx: ParameterizedContext, sessionId: string): boolean {
    if (checkSessionCsrf(key, sessionId, ((ctx.request.body ?? {}) as Record<string, unknown>)[CSRF_FIELD])) return true;
    refuse(ctx, new AppError('FORBIDDEN', '表单已失效，请刷新页面后重试 / the form has expired; reload the page and try again'), '/account/links');
    return false;
  }

  async function showLinks(ctx: ParameterizedContext, w: NonNullable<Awaited<ReturnType<typeof who>>>, status = 200, notice?: PageNotice) {
    sendPage(ctx, status, linksPage({
      lang: pageLang(ctx), csrf: sessionCsrfToken(key, w.session.jti), links: await links.ofAccount(w.account.id), upstreams: upstreams.list(), ...(notice ? { notice } : {}),
    }));
  }

  router.get('/register/link/:upstream', async (ctx) => {
    try {
      ctx.redirect(await flows.start(ctx, param(ctx, 'upstream'), { purpose: 'register' }));
    } catch (e) {
      refuse(ctx, e);
    }
  });

  router.get('/link/callback', async (ctx) => {
    let retry: string | undefined;
    try {
      const { intent, upstream, identity, home } = await flows.finish(ctx);
      if (home && d.recognition) {
        // R-ID-12: a person from their home platform: a recognised local identity, no form (links.ts recognise).
        if (intent.purpose !== 'login') throw new AppError('LINK_STATE_INVALID', '跨地区登录只能从登录页开始 / a cross-tier login starts on the login page');
        retry = `/interaction/${encodeURIComponent(intent.uid)}`;
        const r = await links.recognise(upstream, identity, (q, x) => (x.created
          ? d.audit.append(q, { actorId: x.accountId, action: 'account.recognition.create', target: x.accountId, details: { home: home.entityId, platform: upstream.id, tier: upstream.tier, level: identity.level } }, d.now())
          : Promise.resolve()));
        await d.recognition.remember(r.accountId, home);
        log.info({ accountId: r.accountId, home: home.entityId, created: r.created, level: identity.loginLevel }, 'person recognised from their home platform');
        await handoff.putLogin(intent.uid, { accountId: r.accountId, level: identity.loginLevel, upstream: upstream.id });
        ctx.redirect(`${retry}/linked`);
        return;
      }
      if (intent.purpose === 'link') {
        const w = await who(ctx);
        if (!w) return;
        if (w.account.id !== intent.accountId) throw new AppError('FORBIDDEN', '登录账户已变化，请重新关联 / another account is logged in now; start the link again');
        await links.link(upstream, w.account, identity);
        log.info({ accountId: w.account.id, upstream: upstream.id }, 'account linked to a real-name platform');
        ctx.redirect('/account/links');
        return;
      }
      if (intent.purpose === 'login') {
        retry = `/interaction/${encodeURIComponent(intent.uid)}`;
        const link = await links.find(identity.issuer, identity.subject);
        if (link) {
          await handoff.putLogin(intent.uid, { accountId: link.accountId, level: identity.loginLevel, upstream: upstream.id });
          ctx.redirect(`${retry}/linked`);
          return;
        }
      }
      // Known here already: offered to log in and link instead (said before the agreement page, and again at the insert).
      if (await accounts.findByLogin(identity.idNumber)) {
        throw new AppError('ACCOUNT_EXISTS', '该身份证号码已在本平台注册：请先登录，再在“我的账户”中关联该平台 / this ID number already has an account here: log in, then link the platform from My account');
      }
      await handoff.keepPending(ctx, { upstream: upstream.id, identity, ...(intent.purpose === 'login' ? { uid: intent.uid } : {}) });
      ctx.redirect('/register/link');
    } catch (e) {
      refuse(ctx, e, retry);
    }
  });

  router.get('/register/link', async (ctx) => {
    try {
      const p = await handoff.pending(ctx);
      sendPage(ctx, 200, agreementPage({ lang: pageLang(ctx), csrf: registerCsrfToken(ctx, key), upstream: summary(p.upstream), identity: p.identity }));
    } catch (e) {
      refuse(ctx, e);
    }
  });

  router.post('/register/link', form, async (ctx) => {
    const lang = pageLang(ctx);
    const input = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (!checkRegisterCsrf(ctx, key, input[CSRF_FIELD])) {
      refuse(ctx, new AppError('FORBIDDEN', '表单已失效，请刷新页面后重试 / the form has expired; reload the page and try again'));
      return;
    }
    let p;
    try {
      p = await handoff.pending(ctx);
    } catch (e) {
      refuse(ctx, e);
      return;
    }
    const retry = p.uid ? `/interaction/${encodeURIComponent(p.uid)}` : undefined;
    try {
      const u = upstreams.get(p.upstream);
      if (input.agreementVersion !== AGREEMENT.version) {
        throw new AppError('BAD_INPUT', '请阅读并同意用户服务协议 / please read and accept the service agreement', { fields: ['agreementVersion'], current: AGREEMENT.version });
      }
      await d.limiter.hit('register', ctx.ip, d.registerPerHour, 3600);
      const { accountId } = await links.register(u, p.identity, AGREEMENT.version);
      await handoff.dropPending(ctx);
      log.info({ accountId, upstream: u.id, level: p.identity.level }, 'person registered through a real-name platform');
      if (p.uid) {
        await handoff.putLogin(p.uid, { accountId, level: p.identity.loginLevel, upstream: u.id });
        seeOther(ctx, `/interaction/${encodeURIComponent(p.uid)}/linked`);
        return;
      }
      sendPage(ctx, 201, registeredPage({ lang, upstream: summary(u.id), level: p.identity.level }));
    } catch (e) {
      if (isAppError(e) && e.code === 'BAD_INPUT') {
        sendPage(ctx, 400, agreementPage({ lang, csrf: registerCsrfToken(ctx, key), upstream: summary(p.upstream), identity: p.identity, error: { code: e.code, message: e.message } }));
        return;
      }
      refuse(ctx, e, retry);
    }
  });

  router.get('/account/links', async (ctx) => {
    const w = await who(ctx);
    if (w) await showLinks(ctx, w);
  });

  router.post('/account/links/:upstream', form, async (ctx) => {
    const w = await who(ctx);
    if (!w) return;
    if (!csrfOk(ctx, w.session.jti)) return;
    try {
      seeOther(ctx, await flows.start(ctx, param(ctx, 'upstream'), { purpose: 'link', accountId: w.account.id }));
    } catch (e) {
      if (!isAppError(e)) throw e;
      await showLinks(ctx, w, e.status, { code: e.code, message: e.message });
    }
  });

  router.post('/account/links/:upstream/remove', form, async (ctx) => {
    const w = await who(ctx);
    if (!w) return;
    if (!csrfOk(ctx, w.session.jti)) return;
    try {
      const removed = await unlink(w.account.id, param(ctx, 'upstream'));
      const name = upstreams.list().find((u) => u.id === removed.upstream)?.name ?? { zh: removed.upstream, en: removed.upstream };
      await showLinks(ctx, w, 200, { ok: true, message: `已解除与「${name.zh}」的关联 / the link to “${name.en}” has been removed` });
    } catch (e) {
      if (!isAppError(e)) throw e;
      await showLinks(ctx, w, e.status, { code: e.code, message: e.message });
    }
  });

  router.delete('/account/api/links/:upstream', async (ctx) => {
    const a = await me(ctx);
    await unlink(a.id, param(ctx, 'upstream'));
    ctx.status = 204;
  });

  router.get('/account/api/links', async (ctx) => {
    const c = await d.caller(ctx);
    const all = upstreams.list();
    ctx.set('cache-control', 'no-store');
    ctx.body = {
      links: (await links.ofAccount(c.sub)).map((l) => ({ ...l, name: all.find((u) => u.id === l.upstream)?.name ?? null })),
      available: all,
    };
  });
}
