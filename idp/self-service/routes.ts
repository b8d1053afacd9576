/**
 * Account pages on the IdP and password recovery (R-ID-6):
 *
 *   GET  /account                     profile, sessions, bound mobile, companies (login first)
 *   GET  /account/login               log in to the account pages (first-party client, PKCE)
 *   GET  /account/callback            back from the login: on to /account
 *   POST /account/sessions/:id/end    end one of one's sessions
 *   POST /account/mobile              change the bound mobile, step by step (R-ID-7)
 *   POST /account/companies           register a company as its legal representative (R-ID-4)
 *   GET  /recover, POST /recover      reset the password by SMS
 *   GET  /qr/:code, POST /qr/:code/confirm   approve a QR login from the phone's logged-in browser session
 *
 * Account forms carry a CSRF token bound to the login session; /recover a double-submit one.
 */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import type { ParameterizedContext } from 'koa';
import type { Router } from '@koa/router';
import { koaBody } from 'koa-body';
import { isAppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/log.ts';
import type { AccountStore } from '../accounts/store.ts';
import type { CompanyStore } from '../company/companies.ts';
import { CSRF_FIELD, checkPathCsrf, checkSessionCsrf, pathCsrfToken, sessionCsrfToken } from '../web/csrf.ts';
import { pageLang } from '../web/html.ts';
import { MESSAGES, errorPage } from '../web/pages.ts';
import type { PasswordReset } from '../recovery/reset.ts';
import { ACCOUNT_CLIENT_ID } from './client.ts';
import type { MobileChange } from './mobile.ts';
import type { Sessions } from './sessions.ts';
import { accountPage, qrApprovePage, recoverPage, type Notice } from './views.ts';
import { currentAccount, sendPage, toNotice } from './common.ts';
import type { QrLogins } from '../interactions/qr-codes.ts';
import { levelOf } from '../accounts/assurance.ts';

/** Where the account login may return to: a QR approval or the counter desk (never elsewhere). */
const NEXT_PATH = /^(\/qr\/[A-Za-z0-9_-]{22}|\/counter\/desk)$/;
const form = koaBody({ urlencoded: true, json: false, multipart: false, text: false, formLimit: '16kb' });
const field = (ctx: ParameterizedContext, k: string) => {
  const v = ((ctx.request.body ?? {}) as Record<string, unknown>)[k];
  return typeof v === 'string' ? v.trim().slice(0, 256) : '';
};

export function mountAccountPages(router: Router, d: {
  accounts: AccountStore; companies: CompanyStore; mobile: MobileChange; sessions: Sessions; reset: PasswordReset; qr: QrLogins;
  key: KeyObject; log: Logger; issuer: string;
}): void {
  const { accounts, key } = d;

  const send = sendPage;
  const notice = toNotice;

  /** The logged-in account, or a redirect to the account login. */
  const who = currentAccount(d.sessions, accounts);

  async function render(ctx: ParameterizedContext, w: NonNullable<Awaited<ReturnType<typeof who>>>, o: { status?: number; notice?: Notice; mobileStep?: 'start' | 'old-sent' | 'old-confirmed' | 'new-sent'; newMobile?: string } = {}) {
    const account = await accounts.findById(w.account.id) ?? w.account;
    send(ctx, o.status ?? 200, accountPage({
      lang: pageLang(ctx), csrf: sessionCsrfToken(key, w.session.jti), account,
      sessions: await d.sessions.list(account.id, w.session.jti), companies: await d.companies.ofLegalRep(account.id),
      mobileStep: o.mobileStep ?? 'start', ...(o.newMobile ? { newMobile: o.newMobile } : {}), ...(o.notice ? { notice: o.notice } : {}),
    }));
  }

  function csrf(ctx: ParameterizedContext, sessionId: string): boolean {
    if (checkSessionCsrf(key, sessionId, ((ctx.request.body ?? {}) as Record<string, unknown>)[CSRF_FIELD])) return true;
    send(ctx, 403, errorPage({ lang: pageLang(ctx), path: '/account', code: 'FORBIDDEN', message: MESSAGES.csrf }));
    return false;
  }

  router.get('/account', async (ctx) => {
    const w = await who(ctx);
    if (w) await render(ctx, w);
  });

  router.get('/account/login', (ctx) => {
    // PKCE is required of every client; the account pages use the IdP session, not the code.
    const verifier = randomBytes(32).toString('base64url');
    // Where to go after the login: only a QR approval page, the counter desk or the account page.
    const next = typeof ctx.query.next === 'string' && NEXT_PATH.test(ctx.query.next) ? ctx.query.next : '';
    const q = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID, response_type: 'code', scope: 'openid',
      redirect_uri: new URL('/account/callback', d.issuer).href,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
      state: `${randomBytes(12).toString('base64url')}${next ? `.${Buffer.from(next).toString('base64url')}` : ''}`,
    });
    ctx.redirect(`/auth?${q.toString()}`);
  });

  router.get('/account/callback', (ctx) => {
    if (typeof ctx.query.error === 'string') {
      send(ctx, 400, errorPage({ lang: pageLang(ctx), path: '/account', code: 'UNAUTHENTICATED', message: '登录未完成 / the login did not complete' }));
      return;
    }
    const next = typeof ctx.query.state === 'string' ? Buffer.from(ctx.query.state.split('.')[1] ?? '', 'base64url').toString() : '';
    ctx.redirect(NEXT_PATH.test(next) ? next : '/account');
  });

  // ----- QR login approved in the phone's browser session (R-ID-5) -------------------------------
  router.get('/qr/:code', async (ctx) => {
    const code = ctx.params.code ?? '';
    const s = await d.sessions.current(ctx);
    const account = s?.accountId ? await accounts.findById(s.accountId) : undefined;
    if (!s || !account || account.disabled) {
      ctx.redirect(`/account/login?next=${encodeURIComponent(`/qr/${code}`)}`);
      return;
    }
    send(ctx, 200, qrApprovePage({ lang: pageLang(ctx), csrf: sessionCsrfToken(key, s.jti), code, name: account.name }));
  });

  router.post('/qr/:code/confirm', form, async (ctx) => {
    const w = await who(ctx);
    if (!w || !csrf(ctx, w.session.jti)) return;
    const code = ctx.params.code ?? '';
    const approve = field(ctx, 'decision') === 'approve';
    try {
      const level = levelOf(w.session.acr) ?? 2;
      await d.qr.decide(code, approve ? { accountId: w.account.id, level } : 'deny');
      d.log.info({ accountId: w.account.id, decision: approve ? 'approve' : 'deny' }, 'QR login decided in the browser');
      send(ctx, 200, qrApprovePage({ lang: pageLang(ctx), csrf: '', code, name: w.account.name, done: approve ? 'approved' : 'denied' }));
    } catch (e) {
      send(ctx, isAppError(e) ? e.status : 400, qrApprovePage({ lang: pageLang(ctx), csrf: '', code, name: w.account.name, notice: notice(e) }));
    }
  });

  router.post('/account/sessions/:id/end', form, async (ctx) => {
    const w = await who(ctx);
    if (!w || !csrf(ctx, w.session.jti)) return;
    try {
      await d.sessions.end(w.account.id, ctx.params.id ?? '');
      if (ctx.params.id === w.session.jti) { ctx.redirect('/account/login'); return; }
      await render(ctx, w, { notice: { ok: true, message: '会话已结束 / the session has been ended' } });
    } catch (e) {
      await render(ctx, w, { status: 400, notice: notice(e) });
    }
  });

  router.post('/account/mobile', form, async (ctx) => {
    const w = await who(ctx);
    if (!w || !csrf(ctx, w.session.jti)) return;
    const step = field(ctx, 'step');
    const a = w.account;
    try {
      if (step === 'old-send') { await d.mobile.sendOld(a, ctx.ip); return await render(ctx, w, { mobileStep: 'old-sent' }); }
      if (step === 'old-confirm') { await d.mobile.confirmOld(a, field(ctx, 'code')); return await render(ctx, w, { mobileStep: 'old-confirmed' }); }
      if (step === 'new-send') { await d.mobile.sendNew(a, field(ctx, 'mobile'), ctx.ip); return await render(ctx, w, { mobileStep: 'new-sent', newMobile: field(ctx, 'mobile') }); }
      if (step === 'new-confirm') {
        await d.mobile.confirmNew(a, field(ctx, 'mobile'), field(ctx, 'code'));
        d.log.info({ accountId: a.id }, 'bound mobile changed');
        return await render(ctx, w, { notice: { ok: true, message: '已绑定新手机号码 / the new mobile number is bound' } });
      }
      await render(ctx, w, { status: 400 });
    } catch (e) {
      const back = { 'old-send': 'start', 'old-confirm': 'old-sent', 'new-send': 'old-confirmed', 'new-confirm': 'new-sent' } as const;
      await render(ctx, w, { status: isAppError(e) ? e.status : 400, notice: notice(e), mobileStep: back[step as keyof typeof back] ?? 'start', newMobile: field(ctx, 'mobile') });
    }
  });

  router.post('/account/companies', form, async (ctx) => {
    const w = await who(ctx);
    if (!w || !csrf(ctx, w.session.jti)) return;
    try {
      const c = await d.companies.registerOnline(w.account, ctx.request.body);
      d.log.info({ accountId: w.account.id, companyId: c.id, route: 'registry' }, 'company registered');
      await render(ctx, w, { status: 201, notice: { ok: true, message: `法人单位已注册：${c.name} / company registered: ${c.name}` } });
    } catch (e) {
      await render(ctx, w, { status: isAppError(e) ? e.status : 400, notice: notice(e) });
    }
  });

  router.get('/recover', (ctx) => {
    send(ctx, 200, recoverPage({ lang: pageLang(ctx), csrf: pathCsrfToken(ctx, key, '/recover'), step: 'start' }));
  });

  router.post('/recover', form, async (ctx) => {
    const lang = pageLang(ctx);
    if (!checkPathCsrf(ctx, key, ((ctx.request.body ?? {}) as Record<string, unknown>)[CSRF_FIELD])) {
      send(ctx, 403, errorPage({ lang, path: '/recover', code: 'FORBIDDEN', message: MESSAGES.csrf }));
      return;
    }
    const login = field(ctx, 'login');
    const token = pathCsrfToken(ctx, key, '/recover');
    const step = field(ctx, 'step');
    try {
      if (step === 'send') {
        await d.reset.sendCode(login, ctx.ip);
        send(ctx, 200, recoverPage({ lang, csrf: token, step: 'sent', login }));
      } else {
        const password = ((ctx.request.body ?? {}) as Record<string, unknown>).password;
        const { accountId } = await d.reset.reset(login, field(ctx, 'code'), typeof password === 'string' ? password : '');
        d.log.info({ accountId }, 'password reset by SMS');
        send(ctx, 200, recoverPage({ lang, csrf: token, step: 'done' }));
      }
    } catch (e) {
      send(ctx, isAppError(e) ? e.status : 400, recoverPage({ lang, csrf: token, step: step === 'send' ? 'start' : 'sent', login, notice: notice(e) }));
    }
  });
}
