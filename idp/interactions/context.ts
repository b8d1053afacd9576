/**
 * What the interaction steps share (each step is a file of its own, mounted by index.ts): the
 * interaction bound to this browser, checked against the uid in the path; its CSRF token; the
 * pages; a login half done (first factor passed, waiting for the second or a password change) in
 * the cache; and the rules after a first factor (`proceed`).
 *
 * Rules: every POST needs the interaction's CSRF token (403 otherwise); the uid in the path must
 * be the interaction bound to this browser's cookie; a failed login says LOGIN_FAILED without
 * saying whether the name or the password was wrong; logins are throttled per account and per
 * address (idp/protect/guard.ts); the login's level (acr) and methods (amr) follow
 * idp/accounts/assurance.ts. What the request asks of the level (AcrDemand, computed by the login prompt,
 * acr-policy.ts) decides after the first factor (assurance.ts nextStep): the second factor
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
import { koaBody } from 'koa-body';
import QRCode from 'qrcode';
import type { Interaction, Provider } from 'oidc-provider';
import { AppError, isAppError } from '../../kernel/errors.ts';
import type { Cache } from '../../kernel/cache.ts';
import type { Logger } from '../../kernel/log.ts';
import type { AccountRecord, AccountStore } from '../accounts/store.ts';
import { acrDemand, acrOf, loginLevel, nextStep, stepUpReach, type AcrDemand, type Level } from '../accounts/assurance.ts';
import { CSRF_FIELD, checkInteractionCsrf, interactionCsrfToken } from '../web/csrf.ts';
import { localise, pageLang } from '../web/html.ts';
import type { OtpService } from '../otp/otp.ts';
import type { LoginGuard } from '../protect/guard.ts';
import type { QrLogins } from './qr-codes.ts';
import { ACR_DEMAND } from './acr-policy.ts';
import type { LinkFlows } from '../link/flow.ts';
import type { Handoff } from '../link/handoff.ts';
import type { UpstreamSummary } from '../link/upstreams.ts';
import type { Homes } from '../link/homes.ts';
import { MESSAGES, changePasswordPage, errorPage, loginPage, stepUpPage, type LoginPageState } from '../web/pages.ts';

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
  linked?: { upstreams: () => UpstreamSummary[]; flows: LinkFlows; handoff: Handoff; homes?: Homes | undefined };
}

export type Ctx = ParameterizedContext & { params: Record<string, string> };

/**
 * A login half done: first factor passed, waiting for the second or a password change.
 * `stage` says which page may finish it: only a `password` stage (set when the account must
 * change its initial password AND this login proved that password) may set a new password, so an
 * SMS code alone never lets anyone choose the password (R-ID-2, R-ID-6). A `stepup` stage names
 * the level asked (`target`), whether the user may decline it (`optional`: the rest is
 * voluntary) and whether the first factor is the browser's existing session (`sso`).
 */
export interface Pending { accountId: string; amr: string[]; appLevel?: Level; fedLevel?: Level; stage?: 'password' | 'stepup'; target?: Level; optional?: boolean; sso?: boolean }
const PENDING_TTL = 10 * 60;

export const form = koaBody({ urlencoded: true, json: false, multipart: false, text: false, formLimit: '16kb' });
export const field = (ctx: Ctx, name: string, max = 256): string => {
  const v = ((ctx.request.body ?? {}) as Record<string, unknown>)[name];
  return typeof v === 'string' ? v.trim().slice(0, max) : '';
};

/** The interaction's shared steps: load and check it, render its pages, carry a login half done, finish it. */
export function interactionContext(d: InteractionDeps) {
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
    const homes = d.linked?.homes;
    if (homes?.hybrid) {
      // A hybrid city: the province's login for people, a staff form here; no QR or SMS login.
      const superior = await homes.superior().then((e) => ({ name: e.name }), () => ({ name: null }));
      sendPage(ctx, status, loginPage({ lang: pageLang(ctx), uid: it.uid, csrf: interactionCsrfToken(key, it.uid), clientName: await clientName(ctx, it), ...state, superior }));
      return;
    }
    const { code, expiresIn } = await qr.forInteraction(it.uid);
    const url = `${d.issuer}/qr/${code}`;
    const image = await QRCode.toDataURL(url, { margin: 1, width: 180 });
    sendPage(ctx, status, loginPage({
      lang: pageLang(ctx), uid: it.uid, csrf: interactionCsrfToken(key, it.uid), clientName: await clientName(ctx, it),
      ...state, qr: { url, image, expiresIn }, upstreams: d.linked?.upstreams() ?? [], ...(d.linked?.homes ? { homes: await d.linked.homes.list() } : {}),
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
    // A hybrid city (R-ID-12): people's accounts are the province's; a local first factor (password,
    // SMS, QR) logs in only the city's agency staff. A recognised login (`fed`) comes from the province.
    if (d.linked?.homes?.hybrid && account.kind !== 'staff' && !p.amr.includes('fed')) {
      throw new AppError('LOGIN_AT_PROVINCE', '本市个人和法人用户请在省级平台登录 / citizens and companies of this city log in at the provincial platform');
    }
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

  return {
    ...d,
    pendingKey, sendPage, fail, load, clientName, csrfOk, finish, renderLogin, showError, demandOf, unmet, logIn, proceed, askStepUp, renderStepUp, pending, approve,
  };
}

export type InteractionContext = ReturnType<typeof interactionContext>;
