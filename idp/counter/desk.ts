/**
 * The counter desk: pages for staff with the `receiver` role at the service window (R-ID-2,
 * R-ID-4 and R-ID-6 at a counter), logged in to the IdP like the account pages:
 *
 *   GET  /counter/desk                        the forms, and the registrations waiting for a code
 *   POST /counter/desk/persons                register a person: registry check, SMS code, pending account
 *   POST /counter/desk/persons/:id/resend     a new code to the applicant
 *   POST /counter/desk/persons/:id/activate   the applicant's code → active; the random initial password shown once
 *   POST /counter/desk/companies              a company at the counter (a delegate needs the power of attorney)
 *   POST /counter/desk/password-resets        a new initial password with the ID card
 *
 * Rules: the very functions (and so the same checks and audit entries) as the JSON API
 * (idp/counter/persons.ts); not logged in → the login, then back here; logged in without the
 * receiver role, or disabled → 403 FORBIDDEN (read afresh on every request); every POST needs the
 * session-bound CSRF token (403 otherwise); a refusal is shown with its code and the form keeps
 * what was typed; initial passwords never reach a log.
 */
import type { KeyObject } from 'node:crypto';
import type { ParameterizedContext } from 'koa';
import type { Router } from '@koa/router';
import { koaBody } from 'koa-body';
import { isAppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/log.ts';
import { maskMobile } from '../../kernel/ids.ts';
import type { AccountStore } from '../accounts/store.ts';
import { levelOf } from '../accounts/assurance.ts';
import { sessionCsrfToken } from '../web/csrf.ts';
import { pageLang } from '../web/html.ts';
import { errorPage } from '../web/pages.ts';
import type { BearerCaller } from '../self-service/bearer.ts';
import { currentAccount, formField, sendPage, sessionCsrfOk, toNotice } from '../self-service/common.ts';
import type { Sessions } from '../self-service/sessions.ts';
import type { Notice } from '../self-service/views.ts';
import { DESK_PATH, deskPage, type Handover } from './desk-page.ts';
import type { CounterPersons } from './persons.ts';

const form = koaBody({ urlencoded: true, json: false, multipart: false, text: false, formLimit: '16kb' });

export interface CounterDeskDeps {
  accounts: AccountStore;
  counter: CounterPersons;
  sessions: Sessions;
  key: KeyObject;
  log: Logger;
}

export function mountCounterDesk(router: Router, d: CounterDeskDeps): void {
  const { counter, key, log } = d;
  const who = currentAccount(d.sessions, d.accounts, DESK_PATH);
  type Who = NonNullable<Awaited<ReturnType<typeof who>>>;

  const field = (ctx: ParameterizedContext, k: string) => formField(ctx, k);
  const echo = (ctx: ParameterizedContext, prefix: string, keys: string[]) => Object.fromEntries(keys.map((k) => [`${prefix}.${k}`, field(ctx, k)]));

  /** The logged-in account as the counter functions take their caller (they re-read the account and its role). */
  const staffOf = (w: Who): BearerCaller => ({
    sub: w.account.id, kind: w.account.kind, level: levelOf(w.session.acr) ?? 2, roles: [...w.account.roles], agency: w.account.agencyCode ?? null,
  });

  const csrf = (ctx: ParameterizedContext, w: Who) => sessionCsrfOk(ctx, key, w.session.jti, DESK_PATH);

  /** The desk, or 403 for anyone who is not counter staff now. */
  async function render(ctx: ParameterizedContext, w: Who, o: { status?: number; notice?: Notice; handover?: Handover; values?: Record<string, string> } = {}) {
    let pending;
    try {
      pending = await counter.pending(staffOf(w));
    } catch (e) {
      const n = toNotice(e);
      sendPage(ctx, isAppError(e) ? e.status : 403, errorPage({ lang: pageLang(ctx), path: DESK_PATH, code: n.code ?? 'FORBIDDEN', message: n.message }));
      return;
    }
    sendPage(ctx, o.status ?? 200, deskPage({
      lang: pageLang(ctx), csrf: sessionCsrfToken(key, w.session.jti), staffName: w.account.name, pending,
      ...(o.notice ? { notice: o.notice } : {}), ...(o.handover ? { handover: o.handover } : {}), ...(o.values ? { values: o.values } : {}),
    }));
  }

  /** A POST: logged in, CSRF, then the act; a refusal re-renders the desk with its code and the form's values. */
  function post(path: string, act: (ctx: ParameterizedContext, w: Who, staff: BearerCaller) => Promise<{ status?: number; notice?: Notice; handover?: Handover }>, keep?: [string, string[]]) {
    router.post(path, form, async (ctx) => {
      const w = await who(ctx);
      if (!w || !csrf(ctx, w)) return;
      try {
        await render(ctx, w, await act(ctx, w, staffOf(w)));
      } catch (e) {
        await render(ctx, w, { status: isAppError(e) ? e.status : 400, notice: toNotice(e), ...(keep ? { values: echo(ctx, keep[0], keep[1]) } : {}) });
      }
    });
  }

  router.get(DESK_PATH, async (ctx) => {
    const w = await who(ctx);
    if (w) await render(ctx, w);
  });

  post(`${DESK_PATH}/persons`, async (ctx, w, staff) => {
    const mobile = field(ctx, 'mobile');
    const r = await counter.start(staff, { name: field(ctx, 'name'), idNumber: field(ctx, 'idNumber'), mobile }, ctx.ip);
    log.info({ accountId: r.id, staff: w.account.id }, 'counter registration started (desk)');
    return { status: 201, notice: { ok: true, message: `已向 ${maskMobile(mobile)} 发送验证码，请申请人报出后激活 / a code was sent to ${maskMobile(mobile)}: activate once the applicant tells you the code` } };
  }, ['person', ['name', 'idNumber', 'mobile']]);

  post(`${DESK_PATH}/persons/:id/resend`, async (ctx, w, staff) => {
    await counter.resendCode(staff, String(ctx.params.id ?? ''), ctx.ip);
    log.info({ accountId: ctx.params.id, staff: w.account.id }, 'counter registration code sent again (desk)');
    return { notice: { ok: true, message: '已重新发送验证码 / a new code has been sent' } };
  });

  post(`${DESK_PATH}/persons/:id/activate`, async (ctx, w, staff) => {
    const r = await counter.activate(staff, String(ctx.params.id ?? ''), field(ctx, 'code'));
    log.info({ accountId: r.id, staff: w.account.id }, 'counter registration activated (desk)');
    const name = (await d.accounts.findById(r.id))?.name ?? '';
    return { handover: { kind: 'activated', name, loginName: r.loginName, initialPassword: r.initialPassword } };
  });

  post(`${DESK_PATH}/companies`, async (ctx, w, staff) => {
    const delegate = field(ctx, 'delegateIdNumber');
    const c = await counter.registerCompany(staff, {
      creditCode: field(ctx, 'creditCode').toUpperCase(), name: field(ctx, 'name'), legalRepIdNumber: field(ctx, 'legalRepIdNumber'),
      ...(delegate ? { delegateIdNumber: delegate, powerOfAttorney: field(ctx, 'powerOfAttorney') } : {}),
    });
    log.info({ companyId: c.id, staff: w.account.id, route: 'counter', delegate: Boolean(c.delegateAccountId) }, 'company registered (desk)');
    return { status: 201, notice: { ok: true, message: `法人单位已注册：${c.name}（${c.creditCode}） / company registered: ${c.name} (${c.creditCode})` } };
  }, ['company', ['creditCode', 'name', 'legalRepIdNumber', 'delegateIdNumber', 'powerOfAttorney']]);

  post(`${DESK_PATH}/password-resets`, async (ctx, w, staff) => {
    const r = await counter.resetPassword(staff, { name: field(ctx, 'name'), idNumber: field(ctx, 'idNumber') });
    log.info({ accountId: r.id, staff: w.account.id }, 'password reset at a counter (desk)');
    return { handover: { kind: 'reset', name: field(ctx, 'name'), loginName: r.loginName, initialPassword: r.initialPassword } };
  }, ['reset', ['name', 'idNumber']]);
}
