/**
 * The JSON API of identity self-service, for the portal and the mobile app (bearer access
 * tokens from this IdP, idp/self-service/bearer.ts) and for counter staff:
 *
 *   GET    /account/api/me                         profile: masked ID (R-ID-11), level, factors, registration place
 *   GET    /account/api/sessions                   the caller's login sessions
 *   DELETE /account/api/sessions/:id               end one of them
 *   POST   /account/api/companies                  register a company online as its legal representative (R-ID-4)
 *   POST   /account/api/mobile/old/send | old/confirm | new/send | new/confirm    change the bound mobile (R-ID-7)
 *   POST   /qr/:code/approve | /qr/:code/deny      the app approves (or refuses) a QR login (R-ID-5)
 *   POST   /counter/persons                        counter registration, step 1 (R-ID-2; staff, receiver role)
 *   POST   /counter/persons/:id/activate           step 2: the applicant's SMS code → initial password
 *   POST   /counter/companies                      counter registration of a company (R-ID-4), with a delegate's power of attorney
 *   POST   /counter/password-resets                password reset at a counter with the ID card (R-ID-6)
 *   POST   /recover/code, /recover/reset           password reset by SMS (R-ID-6; no login)
 *
 * Answers are JSON; refusals problem+json with a registry code.
 */
import type { ParameterizedContext } from 'koa';
import type { Router } from '@koa/router';
import { koaBody } from 'koa-body';
import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/log.ts';
import { maskIdNumber, maskMobile } from '../../kernel/ids.ts';
import type { AccountRecord, AccountStore } from '../accounts/store.ts';
import { acrOf } from '../accounts/assurance.ts';
import type { CompanyStore } from '../company/companies.ts';
import type { CounterPersons } from '../counter/persons.ts';
import type { QrLogins } from '../interactions/qr-codes.ts';
import type { RateLimiter } from '../protect/guard.ts';
import type { PasswordReset } from '../recovery/reset.ts';
import type { BearerCaller } from './bearer.ts';
import type { MobileChange } from './mobile.ts';
import type { Sessions } from './sessions.ts';
import { bearerAccount } from './common.ts';

export interface AccountApiDeps {
  accounts: AccountStore;
  companies: CompanyStore;
  counter: CounterPersons;
  mobile: MobileChange;
  sessions: Sessions;
  qr: QrLogins;
  reset: PasswordReset;
  limiter: RateLimiter;
  /** Registrations per source address per hour (IDP_REGISTER_PER_HOUR), people and companies alike. */
  registerPerHour: number;
  caller(ctx: ParameterizedContext): Promise<BearerCaller>;
  log: Logger;
}

const json = koaBody({ urlencoded: false, json: true, multipart: false, text: false, jsonLimit: '16kb' });
const body = (ctx: ParameterizedContext): Record<string, unknown> => {
  const b = ctx.request.body;
  return typeof b === 'object' && b !== null && !Array.isArray(b) ? b as Record<string, unknown> : {};
};
const s = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

/** What a person sees about their own account (R-ID-11: ID number masked; factor values never). */
export function profileOf(a: AccountRecord): Record<string, unknown> {
  return {
    id: a.id, kind: a.kind, name: a.name,
    maskedIdNumber: a.idNumber ? maskIdNumber(a.idNumber) : null,
    maskedMobile: a.mobile ? maskMobile(a.mobile) : null,
    username: a.username, agencyCode: a.agencyCode, roles: a.roles,
    assuranceLevel: a.assuranceLevel, acr: acrOf(a.assuranceLevel), proofing: a.proofing, status: a.status,
    factors: a.factors.map((f) => ({ type: f.type, last4: f.last4, verified: f.verified, at: f.at, source: f.source ?? null })),
    agreementVersion: a.agreementVersion,
    registeredPlatform: a.registeredPlatform, registeredTier: a.registeredTier,
  };
}

export function mountAccountApi(router: Router, d: AccountApiDeps): void {
  const { accounts, log } = d;

  const me = bearerAccount(d.caller, accounts);
  const noStore = (ctx: ParameterizedContext) => ctx.set('cache-control', 'no-store');

  router.get('/account/api/me', async (ctx) => {
    const a = await me(ctx);
    noStore(ctx);
    ctx.body = { ...profileOf(a), companies: await d.companies.ofLegalRep(a.id) };
  });

  router.get('/account/api/sessions', async (ctx) => {
    const a = await me(ctx);
    noStore(ctx);
    ctx.body = { sessions: await d.sessions.list(a.id) };
  });

  router.delete('/account/api/sessions/:id', async (ctx) => {
    const a = await me(ctx);
    await d.sessions.end(a.id, ctx.params.id ?? '');
    log.info({ accountId: a.id }, 'session ended by its owner');
    ctx.status = 204;
  });

  router.post('/account/api/companies', json, async (ctx) => {
    const a = await me(ctx);
    await d.limiter.hit('register', ctx.ip, d.registerPerHour, 3600);
    const company = await d.companies.registerOnline(a, body(ctx));
    log.info({ accountId: a.id, companyId: company.id, route: 'registry' }, 'company registered');
    ctx.status = 201;
    ctx.body = company;
  });

  router.post('/account/api/mobile/:step/:action', json, async (ctx) => {
    const a = await me(ctx);
    const { step, action } = ctx.params as { step: string; action: string };
    const b = body(ctx);
    if (step === 'old' && action === 'send') await d.mobile.sendOld(a, ctx.ip);
    else if (step === 'old' && action === 'confirm') await d.mobile.confirmOld(a, s(b.code));
    else if (step === 'new' && action === 'send') await d.mobile.sendNew(a, s(b.mobile), ctx.ip);
    else if (step === 'new' && action === 'confirm') {
      await d.mobile.confirmNew(a, s(b.mobile), s(b.code));
      log.info({ accountId: a.id }, 'bound mobile changed');
    } else throw new AppError('NOT_FOUND', '未找到 / not found');
    noStore(ctx);
    ctx.body = { ok: true };
  });

  router.post(['/qr/:code/approve', '/qr/:code/deny'], json, async (ctx) => {
    const code = ctx.params.code ?? '';
    const decision = ctx.path.endsWith('/approve') ? 'approve' : 'deny';
    const c = await d.caller(ctx);
    const a = await accounts.findById(c.sub);
    if (!a || a.disabled) throw new AppError('UNAUTHENTICATED', '请先登录 / log in first');
    await d.qr.decide(code, decision === 'deny' ? 'deny' : { accountId: a.id, level: c.level });
    log.info({ accountId: a.id, decision }, 'QR login decided on the app');
    ctx.body = { ok: true };
  });

  router.post('/counter/persons', json, async (ctx) => {
    const staff = await d.caller(ctx);
    const r = await d.counter.start(staff, body(ctx), ctx.ip);
    log.info({ accountId: r.id, staff: staff.sub }, 'counter registration started');
    ctx.status = 201;
    ctx.body = r;
  });

  router.post('/counter/password-resets', json, async (ctx) => {
    const staff = await d.caller(ctx);
    const r = await d.counter.resetPassword(staff, body(ctx));
    log.info({ accountId: r.id, staff: staff.sub }, 'password reset at a counter');
    noStore(ctx);
    ctx.body = r;
  });

  router.post('/counter/persons/:id/activate', json, async (ctx) => {
    const staff = await d.caller(ctx);
    const r = await d.counter.activate(staff, ctx.params.id ?? '', s(body(ctx).code));
    log.info({ accountId: r.id, staff: staff.sub }, 'counter registration activated');
    noStore(ctx);
    ctx.body = r;
  });

  router.post('/counter/companies', json, async (ctx) => {
    const staff = await d.caller(ctx);
    const company = await d.counter.registerCompany(staff, body(ctx));
    log.info({ companyId: company.id, staff: staff.sub, route: 'counter', delegate: Boolean(company.delegateAccountId) }, 'company registered');
    ctx.status = 201;
    ctx.body = company;
  });

  router.post('/recover/code', json, async (ctx) => {
    if (!ctx.is('application/json')) throw new AppError('BAD_INPUT', '请求体应为 JSON / the body must be JSON');
    await d.reset.sendCode(s(body(ctx).login), ctx.ip);
    noStore(ctx);
    ctx.status = 202;
    ctx.body = { sent: 'if-registered' };
  });

  router.post('/recover/reset', json, async (ctx) => {
    if (!ctx.is('application/json')) throw new AppError('BAD_INPUT', '请求体应为 JSON / the body must be JSON');
    const b = body(ctx);
    const { accountId } = await d.reset.reset(s(b.login), s(b.code), typeof b.password === 'string' ? b.password : '');
    log.info({ accountId }, 'password reset by SMS');
    ctx.body = { ok: true };
  });
}
