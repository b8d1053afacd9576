/**
 * R-ID-4's electronic business licence and enterprise certificate routes, for the logged-in
 * legal representative (rules in licence.ts, certificate.ts and companies.ts):
 *
 *   POST /account/api/companies/licence                { licence, agreementVersion }             → 201 company
 *   POST /account/api/companies/certificate/challenge  {}                                         → 201 { challenge, expiresIn }
 *   POST /account/api/companies/certificate            { challenge, certificate, signature, agreementVersion }
 *                                                      → 201 company (registered), 200 (certificate linked to one of yours)
 *   GET  /account/companies                            the company registration page
 *   POST /account/companies/licence | /certificate/challenge | /certificate   the same as forms
 *
 * JSON takes the IdP's bearer access token; forms the login session and its CSRF token.
 * Registrations count towards the per-address registration limit.
 */
import type { KeyObject } from 'node:crypto';
import type { ParameterizedContext } from 'koa';
import type { Router } from '@koa/router';
import { koaBody } from 'koa-body';
import { isAppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/log.ts';
import type { AccountRecord, AccountStore } from '../accounts/store.ts';
import type { BearerCaller } from '../self-service/bearer.ts';
import { bearerAccount, currentAccount, sendPage } from '../self-service/common.ts';
import type { Sessions } from '../self-service/sessions.ts';
import { CSRF_FIELD, checkSessionCsrf, sessionCsrfToken } from '../web/csrf.ts';
import { pageLang } from '../web/html.ts';
import type { RateLimiter } from '../protect/guard.ts';
import type { CertificateProof } from './certificate.ts';
import type { Company, CompanyStore } from './companies.ts';
import type { LicenceProof } from './licence.ts';
import { companiesPage, type CompanyNotice } from './pages.ts';

export interface CompanyRouteDeps {
  accounts: AccountStore;
  companies: CompanyStore;
  licence: LicenceProof;
  certificate: CertificateProof;
  sessions: Sessions;
  limiter: RateLimiter;
  /** Registrations per source address per hour (IDP_REGISTER_PER_HOUR). */
  perHour: number;
  caller(ctx: ParameterizedContext): Promise<BearerCaller>;
  key: KeyObject;
  log: Logger;
}

const json = koaBody({ urlencoded: false, json: true, multipart: false, text: false, jsonLimit: '96kb' });
const form = koaBody({ urlencoded: true, json: false, multipart: false, text: false, formLimit: '96kb' });
const bodyOf = (ctx: ParameterizedContext): Record<string, unknown> => {
  const b = ctx.request.body;
  return typeof b === 'object' && b !== null && !Array.isArray(b) ? b as Record<string, unknown> : {};
};

export function mountCompanyRoutes(router: Router, d: CompanyRouteDeps): void {
  const { companies, log } = d;
  const me = bearerAccount(d.caller, d.accounts);
  const who = currentAccount(d.sessions, d.accounts);

  async function register(ctx: ParameterizedContext, rep: AccountRecord, route: 'licence' | 'certificate'): Promise<{ company: Company; linked: boolean }> {
    await d.limiter.hit('register', ctx.ip, d.perHour, 3600);
    const body = bodyOf(ctx);
    const r = await companies.registerWithProof(rep, body, () => (route === 'licence' ? d.licence(rep, body.licence) : d.certificate.prove(rep, body)));
    log.info({ accountId: rep.id, companyId: r.company.id, route, linked: r.linked, level: r.company.assuranceLevel }, r.linked ? 'enterprise certificate linked' : 'company registered');
    return r;
  }

  // ----- JSON ---------------------------------------------------------------------------------
  router.post('/account/api/companies/licence', json, async (ctx) => {
    const { company } = await register(ctx, await me(ctx), 'licence');
    ctx.status = 201;
    ctx.body = company;
  });
  router.post('/account/api/companies/certificate/challenge', json, async (ctx) => {
    const a = await me(ctx);
    ctx.status = 201;
    ctx.set('cache-control', 'no-store');
    ctx.body = await d.certificate.challenge(a.id);
  });
  router.post('/account/api/companies/certificate', json, async (ctx) => {
    const { company, linked } = await register(ctx, await me(ctx), 'certificate');
    ctx.status = linked ? 200 : 201;
    ctx.body = company;
  });

  // ----- the page -----------------------------------------------------------------------------
  async function render(ctx: ParameterizedContext, w: NonNullable<Awaited<ReturnType<typeof who>>>, o: { status?: number; notice?: CompanyNotice; challenge?: { challenge: string; expiresIn: number } } = {}) {
    sendPage(ctx, o.status ?? 200, companiesPage({
      lang: pageLang(ctx), csrf: sessionCsrfToken(d.key, w.session.jti), companies: await companies.ofLegalRep(w.account.id),
      ...(o.notice ? { notice: o.notice } : {}), ...(o.challenge ? { challenge: o.challenge } : {}),
    }));
  }
  /** The logged-in account for a form post with a valid CSRF token, else a page has been sent. */
  async function poster(ctx: ParameterizedContext) {
    const w = await who(ctx);
    if (!w) return undefined;
    if (checkSessionCsrf(d.key, w.session.jti, bodyOf(ctx)[CSRF_FIELD])) return w;
    await render(ctx, w, { status: 403, notice: { code: 'FORBIDDEN', message: '表单已失效，请刷新页面后重试 / the form has expired; reload the page and try again' } });
    return undefined;
  }

  router.get('/account/companies', async (ctx) => {
    const w = await who(ctx);
    if (w) await render(ctx, w);
  });
  router.post('/account/companies/certificate/challenge', form, async (ctx) => {
    const w = await poster(ctx);
    if (w) await render(ctx, w, { challenge: await d.certificate.challenge(w.account.id) });
  });
  for (const route of ['licence', 'certificate'] as const) {
    router.post(`/account/companies/${route}`, form, async (ctx) => {
      const w = await poster(ctx);
      if (!w) return;
      try {
        const { company, linked } = await register(ctx, w.account, route);
        await render(ctx, w, {
          status: linked ? 200 : 201,
          notice: { ok: true, message: linked ? `已绑定企业数字证书：${company.name}（五级） / enterprise certificate linked: ${company.name} (level 5)` : `法人单位已注册：${company.name} / company registered: ${company.name}` },
        });
      } catch (e) {
        if (!isAppError(e)) throw e;
        await render(ctx, w, { status: e.status, notice: { code: e.code, message: e.message } });
      }
    });
  }
}
