/**
 * The interaction pages oidc-provider sends the browser to (`/interaction/:uid`), R-ID-5:
 *
 *   GET  /interaction/:uid               login form (password, SMS code, QR) or consent form
 *   POST /interaction/:uid/login         ID number | mobile | staff username + password
 *   POST /interaction/:uid/sms/send      send a login code to a bound mobile
 *   POST /interaction/:uid/sms/verify     mobile + SMS code
 *   GET  /interaction/:uid/qr            QR login status (JSON, polled by the page)
 *   POST /interaction/:uid/qr/complete   finish a QR login the app approved (idp/login/qr.ts)
 *   POST /interaction/:uid/stepup/send   send the step-up code to the account's bound mobile
 *   POST /interaction/:uid/stepup        the second factor (SMS code, or the password after an SMS login)
 *   POST /interaction/:uid/stepup/skip   go on at the level reached (only when the higher level was asked voluntarily)
 *   POST /interaction/:uid/password      change the initial password at first login (R-ID-2)
 *   POST /interaction/:uid/confirm       consent: decision=approve | deny
 *   POST /interaction/:uid/abort         cancel the login (access_denied back to the client)
 *   GET  /interaction/:uid/upstream/:id  log in through a trusted real-name platform (R-ID-3, idp/link)
 *   GET  /interaction/:uid/linked        back from it (or from registering through it): finish the login
 *
 * Rules: every POST needs the interaction's CSRF token (403 otherwise); the uid in the path must
 * be the interaction bound to this browser's cookie; a failed login says LOGIN_FAILED without
 * saying whether the name or the password was wrong; logins are throttled per account and per
 * address (idp/protect/guard.ts); the login's level (acr) and methods (amr) follow
 * idp/assurance.ts. What the request asks of the level (AcrDemand, computed by the login prompt,
 * idp/login/policy.ts) decides after the first factor (assurance.ts nextStep): the second factor
 * is asked for when it reaches the level — right away when the browser is logged in already with
 * one factor and the level is the only reason to log in again (not max_age, prompt=login,
 * another account); a voluntary level (acr_values, non-essential acr claim) that cannot be
 * reached is no failure: the login goes on at the level reached, and the user may also decline
 * the step-up for it; an essential level (essential acr claim, the client's access policy) that
 * the account cannot reach ends with `unmet_authentication_requirements` (at once for a
 * logged-in browser). Logs never carry login names, numbers, passwords or codes.
 */
import type { KeyObject } from 'node:crypto';
import type { ParameterizedContext } from 'koa';
import type { Router } from '@koa/router';
import { koaBody } from 'koa-body';
import QRCode from 'qrcode';
import type { Interaction, Provider } from 'oidc-provider';
import { AppError, isAppError } from '../../kernel/errors.ts';
import type { Cache } from '../../kernel/cache.ts';
import type { Logger } from '../../kernel/log.ts';
import { isValidMobile } from '../../kernel/ids.ts';
import type { AccountRecord, AccountStore } from '../accounts/store.ts';
import { acrDemand, acrOf, levelOf, loginLevel, nextStep, reachableLevel, stepUpReach, type AcrDemand, type Level } from '../accounts/assurance.ts';
import { CSRF_FIELD, checkInteractionCsrf, interactionCsrfToken } from '../web/csrf.ts';
import { localise, pageLang } from '../web/html.ts';
import type { OtpService } from '../otp/otp.ts';
import type { LoginGuard } from '../protect/guard.ts';
import type { QrLogins } from './qr-logins.ts';
import { ACR_DEMAND, ACR_INSUFFICIENT } from './acr-policy.ts';
import type { LinkFlows } from '../link/flow.ts';
import type { Handoff } from '../link/handoff.ts';
import type { UpstreamSummary } from '../link/upstreams.ts';
import { MESSAGES, changePasswordPage, consentPage, errorPage, loginPage, stepUpPage, type LoginPageState } from '../web/pages.ts';

export interface InteractionDeps {
  provider: Provider;
  accounts: AccountStore;
  key: KeyObject;
  log: Logger;
  cache: Cache;
  otp: OtpService;
  guard: LoginGuard;
  qr: QrLogins;
  issuer: string;
  /** First-party clients whose consent is implied (the IdP's own account pages). */
  trustedClients?: readonly string[];
  /** Trusted real-name platforms to log in through (R-ID-3). */
  linked?: { upstreams: () => UpstreamSummary[]; flows: LinkFlows; handoff: Handoff };
}

type Ctx = ParameterizedContext & { params: Record<string, string> };

/**
 * A login half done: first factor passed, waiting for the second or a password change.
 * `stage` says which page may finish it: only a `password` stage (set when the account must
 * change its initial password AND this login proved that password) may set a new password, so an
 * SMS code alone never lets anyone choose the password (R-ID-2, R-ID-6). A `stepup` stage names
 * the level asked (`target`), whether the user may decline it (`optional`: the rest is
 * voluntary) and whether the first factor is the browser's existing session (`sso`).
 */
interface Pending { accountId: string; amr: string[]; appLevel?: Level; fedLevel?: Level; stage?: 'password' | 'stepup'; target?: Level; optional?: boolean; sso?: boolean }
/** An interaction result saying the user declined a voluntary step-up of their existing session. */
const STEPUP_DECLINED = 'yw_stepup_declined';
const PENDING_TTL = 10 * 60;

const form = koaBody({ urlencoded: true, json: false, multipart: false, text: false, formLimit: '16kb' });
const field = (ctx: Ctx, name: string, max = 256): string => {
  const v = ((ctx.request.body ?? {}) as Record<string, unknown>)[name];
  return typeof v === 'string' ? v.trim().slice(0, max) : '';
};

export function mountInteractions(router: Router, d: InteractionDeps): void {
  const { provider, accounts, key, log, cache, otp, guard, qr } = d;
  const pendingKey = (uid: string) => `ix:pending:${uid}`;

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
    if (checkInteractionCsrf(key, it.uid, ((ctx.request.body ?? {}) as Record<string, unknown>)[CSRF_FIELD])) return true;
    fail(ctx, 403, 'FORBIDDEN', MESSAGES.csrf);
    return false;
  }

  async function finish(ctx: Ctx, result: Record<string, unknown>): Promise<void> {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.set('cache-control', 'no-store');
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  async function renderLogin(ctx: Ctx, it: Interaction, status = 200, state: Omit<LoginPageState, 'qr'> = {}) {
    const { code, expiresIn } = await qr.forInteraction(it.uid);
    const url = `${d.issuer}/qr/${code}`;
    const image = await QRCode.toDataURL(url, { margin: 1, width: 180 });
    sendPage(ctx, status, loginPage({
      lang: pageLang(ctx), uid: it.uid, csrf: interactionCsrfToken(key, it.uid), clientName: await clientName(ctx, it),
      ...state, qr: { url, image, expiresIn }, upstreams: d.linked?.upstreams() ?? [],
    }));
  }

  function showError(e: unknown): { code: string; message: string } {
    if (!isAppError(e)) throw e;
    return { code: e.code, message: e.message };
  }

  /** What the request asks of the level (the login prompt's details; the parameters alone for an interaction started before them). */
  const demandOf = (it: Interaction): AcrDemand => (it.prompt.details[ACR_DEMAND] as AcrDemand | undefined) ?? acrDemand(it.params as { acr_values?: unknown; claims?: unknown });

  async function unmet(ctx: Ctx, accountId: string, demand: AcrDemand, level: Level): Promise<void> {
    log.info({ accountId, demanded: level, byPolicy: Boolean(demand.byPolicy) }, 'login refused: assurance level not reachable');
    const why = demand.byPolicy ? `this application's access policy requires ${acrOf(level)} or higher` : `${acrOf(level)} was requested as essential`;
    await finish(ctx, { error: 'unmet_authentication_requirements', error_description: `${why}; the account cannot reach it` });
  }

  async function logIn(ctx: Ctx, it: Interaction, account: AccountRecord, p: Pending, level: Level): Promise<void> {
    await guard.succeeded(account.id);
    log.info({ accountId: account.id, kind: account.kind, amr: p.amr, level }, 'login succeeded');
    await cache.del(pendingKey(it.uid));
    await finish(ctx, { login: { accountId: account.id, acr: acrOf(level), amr: p.amr, remember: true } });
  }

  /** The first factor passed: change the password, step up, refuse, or log in. */
  async function proceed(ctx: Ctx, it: Interaction, account: AccountRecord, p: Pending): Promise<void> {
    if (account.mustChangePassword) {
      // The initial password must be proven before a new one is chosen: an SMS or QR login cannot do it.
      if (!p.amr.includes('pwd')) {
        throw new AppError('PASSWORD_CHANGE_REQUIRED', '请先用窗口发放的初始密码登录并修改密码 / log in with the initial password you were given and change it first');
      }
      await cache.set(pendingKey(it.uid), JSON.stringify({ ...p, stage: 'password' } satisfies Pending), { ttlSeconds: PENDING_TTL });
      sendPage(ctx, 200, changePasswordPage({ lang: pageLang(ctx), uid: it.uid, csrf: interactionCsrfToken(key, it.uid) }));
      return;
    }
    const demand = demandOf(it);
    const level = loginLevel(account.assuranceLevel, p.amr, p.appLevel, p.fedLevel);
    const next = nextStep(demand, level, stepUpReach(account, p.amr));
    if (next.step === 'unmet') return unmet(ctx, account.id, demand, next.level);
    if (next.step === 'stepup') return askStepUp(ctx, it, { ...p, target: next.level, optional: level >= (demand.essential ?? 0) });
    await logIn(ctx, it, account, p, level);
  }

  async function askStepUp(ctx: Ctx, it: Interaction, p: Pending): Promise<void> {
    const s: Pending = { ...p, stage: 'stepup' };
    await cache.set(pendingKey(it.uid), JSON.stringify(s), { ttlSeconds: PENDING_TTL });
    await renderStepUp(ctx, it, s);
  }

  async function renderStepUp(ctx: Ctx, it: Interaction, p: Pending, status = 200, error?: { code: string; message: string }, sent = false) {
    sendPage(ctx, status, stepUpPage({
      lang: pageLang(ctx), uid: it.uid, csrf: interactionCsrfToken(key, it.uid), level: p.target ?? 3, optional: Boolean(p.optional),
      method: p.amr.includes('pwd') ? 'sms' : 'pwd', sent, ...(error ? { error } : {}),
    }));
  }

  async function pending(ctx: Ctx, it: Interaction): Promise<{ p: Pending; account: AccountRecord } | undefined> {
    const raw = await cache.get(pendingKey(it.uid));
    const p = raw ? JSON.parse(raw) as Pending : undefined;
    const account = p ? await accounts.findById(p.accountId) : undefined;
    if (!p || !account || account.disabled) {
      fail(ctx, 400, 'INTERACTION_EXPIRED', MESSAGES.interactionGone);
      return undefined;
    }
    return { p, account };
  }

  /** Grant what the consent prompt asks for and continue. */
  async function approve(ctx: Ctx, it: Interaction): Promise<void> {
    if (!it.session) return fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
    const { details } = it.prompt;
    const grant = (it.grantId ? await provider.Grant.find(it.grantId) : undefined)
      ?? new provider.Grant({ accountId: it.session.accountId, clientId: it.params.client_id });
    if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();
    await finish(ctx, { consent: it.grantId ? {} : { grantId } });
  }

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
    if (it.prompt.name === 'consent' && d.trustedClients?.includes(it.params.client_id)) return approve(ctx, it);
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

  // ----- password -------------------------------------------------------------------------
  router.post('/interaction/:uid/login', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    if (it.prompt.name !== 'login') return fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
    const login = field(ctx, 'login', 64);
    const password = ((ctx.request.body ?? {}) as Record<string, unknown>).password;
    const found = await accounts.findByLogin(login);
    const subject = found?.id ?? `login:${login.toUpperCase()}`;
    try {
      await guard.check(subject, ctx.ip);
      let account: AccountRecord;
      try {
        account = await accounts.authenticate(login, typeof password === 'string' ? password.slice(0, 256) : '');
      } catch (e) {
        if (isAppError(e) && e.code === 'LOGIN_FAILED') await guard.failed(subject, ctx.ip);
        throw e;
      }
      await proceed(ctx, it, account, { accountId: account.id, amr: ['pwd'] });
    } catch (e) {
      const error = showError(e);
      log.info({ code: error.code }, 'login refused');
      await renderLogin(ctx, it, isAppError(e) ? e.status : 400, { login, error });
    }
  });

  // ----- mobile + SMS code ------------------------------------------------------------------
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

  // ----- QR code approved on the mobile app ---------------------------------------------------
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

  // ----- a trusted real-name platform (R-ID-3, idp/link) -------------------------------------
  router.get('/interaction/:uid/upstream/:upstream', async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it) return;
    if (it.prompt.name !== 'login' || !d.linked) return fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
    try {
      ctx.redirect(await d.linked.flows.start(ctx, ctx.params.upstream ?? '', { purpose: 'login', uid: it.uid }));
    } catch (e) {
      await renderLogin(ctx, it, isAppError(e) ? e.status : 400, { method: 'fed', error: showError(e) });
    }
  });

  router.get('/interaction/:uid/linked', async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it) return;
    if (it.prompt.name !== 'login' || !d.linked) return fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
    try {
      const r = await d.linked.handoff.takeLogin(it.uid);
      const account = await accounts.findById(r.accountId);
      if (!account || account.disabled) throw new AppError('ACCOUNT_DISABLED', '账户已停用 / this account is disabled');
      await proceed(ctx, it, account, { accountId: account.id, amr: ['fed'], fedLevel: r.level });
    } catch (e) {
      await renderLogin(ctx, it, isAppError(e) ? e.status : 400, { method: 'fed', error: showError(e) });
    }
  });

  // ----- step-up: the second factor ---------------------------------------------------------
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
    // The browser's session stays as it was (its login time too); idp/login/policy.ts lets it through.
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

  // ----- first login after counter registration: change the initial password ------------------
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

  // ----- consent ----------------------------------------------------------------------------
  router.post('/interaction/:uid/confirm', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    if (it.prompt.name !== 'consent' || !it.session) return fail(ctx, 400, 'BAD_INPUT', MESSAGES.interactionGone);
    const decision = ((ctx.request.body ?? {}) as Record<string, unknown>).decision;
    if (decision !== 'approve') {
      await finish(ctx, { error: 'access_denied', error_description: 'End-User denied the request' });
      return;
    }
    await approve(ctx, it);
  });

  router.post('/interaction/:uid/abort', form, async (ctx: Ctx) => {
    const it = await load(ctx);
    if (!it || !csrfOk(ctx, it)) return;
    await finish(ctx, { error: 'access_denied', error_description: 'End-User aborted the interaction' });
  });
}
