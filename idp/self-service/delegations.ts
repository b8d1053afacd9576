/**
 * The delegations page of the account pages (R-ID-8):
 *
 *   GET  /account/delegations               what I hold, what I granted, requests to decide, the forms
 *   POST /account/delegations/grant         grant (legal representative) or pass on (a grantee, ≤ 3 levels)
 *   POST /account/delegations/request       ask a company; its legal representative decides
 *   POST /account/delegations/:id/decide    approve / reject a request (legal representative)
 *   POST /account/delegations/:id/revoke    revoke (grantor, legal representative) or renounce (grantee); cascades
 *
 * Every rule is the delegation store's (idp/delegation/delegations.ts): this module only turns
 * form fields into its inputs (dates in China Standard Time, the grantee found by ID number or
 * mobile and checked against the name given, as the identity subgraph does) and shows each
 * refusal with its code. Same login and session-bound CSRF token as the other account pages.
 */
import type { KeyObject } from 'node:crypto';
import type { ParameterizedContext } from 'koa';
import type { Router } from '@koa/router';
import { koaBody } from 'koa-body';
import type { Clock } from '../../kernel/clock.ts';
import { AppError, isAppError } from '../../kernel/errors.ts';
import { normaliseName } from '../../kernel/names.ts';
import type { Logger } from '../../kernel/log.ts';
import type { AccountRecord, AccountStore } from '../accounts/store.ts';
import { sessionCsrfToken } from '../web/csrf.ts';
import { MAX_DELEGATION_LEVEL, type DelegationStore } from '../delegation/delegations.ts';
import { pageLang } from '../web/html.ts';
import { delegationsPage, type DelegationRow, type DelegationsView } from './delegations-page.ts';
import type { Sessions } from './sessions.ts';
import type { Notice } from './views.ts';
import { currentAccount, formField, sendPage, sessionCsrfOk, toNotice } from './common.ts';

const form = koaBody({ urlencoded: true, json: false, multipart: false, text: false, formLimit: '16kb' });
const PATH = '/account/delegations';
const DAY_MS = 24 * 3600_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A form date (YYYY-MM-DD, China Standard Time) as an instant; anything else is passed on for the store to refuse. */
const cstStart = (d: string): string => (DATE.test(d) && !Number.isNaN(Date.parse(`${d}T00:00:00+08:00`)) ? new Date(`${d}T00:00:00+08:00`).toISOString() : d);
/** The end date is the last day in force: the delegation ends at the next midnight (CST). */
const cstEnd = (d: string): string => (DATE.test(d) && !Number.isNaN(Date.parse(`${d}T00:00:00+08:00`)) ? new Date(Date.parse(`${d}T00:00:00+08:00`) + DAY_MS).toISOString() : d);
const scopeOf = (s: string): string[] => s.split(/[\s,，、;；]+/).filter(Boolean);

export interface DelegationPagesDeps {
  accounts: AccountStore;
  delegations: DelegationStore;
  sessions: Sessions;
  key: KeyObject;
  clock: Clock;
  log: Logger;
}

export function mountDelegationPages(router: Router, d: DelegationPagesDeps): void {
  const { accounts, delegations, key } = d;

  const field = (ctx: ParameterizedContext, k: string) => formField(ctx, k, 2000);
  const send = sendPage;
  const notice = toNotice;

  /** The logged-in account, or a redirect to the account login. */
  const who = currentAccount(d.sessions, accounts);
  type Who = NonNullable<Awaited<ReturnType<typeof who>>>;

  const csrf = (ctx: ParameterizedContext, w: Who) => sessionCsrfOk(ctx, key, w.session.jti, PATH);

  async function render(ctx: ParameterizedContext, w: Who, o: { status?: number; notice?: Notice; values?: Record<string, string> } = {}) {
    const me = w.account.id;
    const all = await delegations.visibleTo(me);
    const names = new Map<string, string>();
    const nameOf = async (id: string) => {
      if (!names.has(id)) names.set(id, (await accounts.findById(id))?.name ?? '—');
      return names.get(id)!;
    };
    const rows: DelegationRow[] = [];
    for (const dl of all) rows.push({ ...dl, grantorName: await nameOf(dl.grantorId), inForce: dl.status === 'active' && await delegations.inForce(dl) });
    const held = rows.filter((r) => r.granteeId === me);
    const pending = rows.filter((r) => r.grantorId === me && r.status === 'requested');
    // Companies offered in the grant form; the store still checks every rule when the form is sent.
    const grantable: DelegationsView['grantable'] = [];
    if (w.account.kind === 'person') {
      for (const m of await delegations.memberships(me)) {
        if (m.relation === 'legal-representative') grantable.push({ creditCode: m.creditCode, name: m.name, how: 'legal-representative' });
      }
      for (const h of [...held].sort((a, b) => a.level - b.level)) {
        if (h.inForce && h.level < MAX_DELEGATION_LEVEL && !grantable.some((g) => g.creditCode === h.companyCreditCode)) {
          grantable.push({ creditCode: h.companyCreditCode, name: h.companyName, how: 'delegate', level: h.level });
        }
      }
    }
    send(ctx, o.status ?? 200, delegationsPage({
      lang: pageLang(ctx), csrf: sessionCsrfToken(key, w.session.jti), isPerson: w.account.kind === 'person',
      held, pending, grantable,
      granted: rows.filter((r) => r.grantorId === me && r.status !== 'requested'),
      ofMyCompanies: rows.filter((r) => r.grantorId !== me && r.granteeId !== me),
      ...(o.notice ? { notice: o.notice } : {}), ...(o.values ? { values: o.values } : {}),
    }));
  }

  /** The period fields as the store's input: a start today or earlier means "from now". */
  function period(ctx: ParameterizedContext): { validFrom?: string; validUntil: string } {
    const from = field(ctx, 'validFrom');
    const validFrom = from ? cstStart(from) : undefined;
    const startsLater = validFrom !== undefined && (Number.isNaN(Date.parse(validFrom)) || Date.parse(validFrom) > d.clock.now().getTime());
    return { ...(startsLater ? { validFrom } : {}), validUntil: cstEnd(field(ctx, 'validUntil')) };
  }

  /** The grantee by ID number or mobile, confirmed by name (as the identity subgraph's grantDelegation). */
  async function grantee(login: string, name: string): Promise<AccountRecord> {
    const a = login ? await accounts.findByLogin(login) : undefined;
    if (!a || a.kind !== 'person' || a.name !== normaliseName(name)) {
      throw new AppError('NOT_FOUND', '没有与该身份证号码（或手机号码）和姓名相符的账户 / no account matches this ID number (or mobile number) and name');
    }
    return a;
  }

  const echo = (ctx: ParameterizedContext, prefix: string, keys: string[]) =>
    Object.fromEntries(keys.map((k) => [`${prefix}.${k}`, field(ctx, k).slice(0, 256)]));

  router.get(PATH, async (ctx) => {
    const w = await who(ctx);
    if (w) await render(ctx, w);
  });

  router.post(`${PATH}/grant`, form, async (ctx) => {
    const w = await who(ctx);
    if (!w || !csrf(ctx, w)) return;
    try {
      const to = await grantee(field(ctx, 'grantee'), field(ctx, 'granteeName'));
      const dl = await delegations.grant(w.account.id, { company: field(ctx, 'company'), granteeId: to.id, scope: scopeOf(field(ctx, 'scope')), ...period(ctx) });
      d.log.info({ accountId: w.account.id, delegationId: dl.id, level: dl.level }, 'delegation granted on the account page');
      await render(ctx, w, { status: 201, notice: { ok: true, message: `已授权 ${dl.granteeName}（第 ${dl.level} 级） / delegated to ${dl.granteeName} (level ${dl.level})` } });
    } catch (e) {
      await render(ctx, w, { status: isAppError(e) ? e.status : 400, notice: notice(e), values: echo(ctx, 'grant', ['company', 'grantee', 'granteeName', 'scope', 'validFrom', 'validUntil']) });
    }
  });

  router.post(`${PATH}/request`, form, async (ctx) => {
    const w = await who(ctx);
    if (!w || !csrf(ctx, w)) return;
    try {
      const dl = await delegations.request(w.account.id, { company: field(ctx, 'company').toUpperCase(), scope: scopeOf(field(ctx, 'scope')), ...period(ctx) });
      d.log.info({ accountId: w.account.id, delegationId: dl.id }, 'delegation requested on the account page');
      await render(ctx, w, { status: 201, notice: { ok: true, message: `已向 ${dl.companyName} 提交申请 / request sent to ${dl.companyName}` } });
    } catch (e) {
      await render(ctx, w, { status: isAppError(e) ? e.status : 400, notice: notice(e), values: echo(ctx, 'request', ['company', 'scope', 'validFrom', 'validUntil']) });
    }
  });

  router.post(`${PATH}/:id/decide`, form, async (ctx) => {
    const w = await who(ctx);
    if (!w || !csrf(ctx, w)) return;
    const decision = field(ctx, 'decision');
    try {
      if (decision !== 'approve' && decision !== 'reject') throw new AppError('BAD_INPUT', '请选择批准或拒绝 / choose approve or reject', { fields: ['decision'] });
      const dl = await delegations.decide(w.account.id, ctx.params.id ?? '', decision === 'approve');
      d.log.info({ accountId: w.account.id, delegationId: dl.id, decision }, 'delegation request decided on the account page');
      await render(ctx, w, { notice: { ok: true, message: dl.status === 'active' ? `已批准 ${dl.granteeName} 的申请 / approved the request of ${dl.granteeName}` : `已拒绝 ${dl.granteeName} 的申请 / rejected the request of ${dl.granteeName}` } });
    } catch (e) {
      await render(ctx, w, { status: isAppError(e) ? e.status : 400, notice: notice(e) });
    }
  });

  router.post(`${PATH}/:id/revoke`, form, async (ctx) => {
    const w = await who(ctx);
    if (!w || !csrf(ctx, w)) return;
    try {
      const ids = await delegations.revoke(w.account.id, ctx.params.id ?? '');
      d.log.info({ accountId: w.account.id, delegationId: ctx.params.id, revoked: ids.length }, 'delegation revoked on the account page');
      await render(ctx, w, { notice: { ok: true, message: `已撤销 ${ids.length} 项授权（含由其转授的 ${ids.length - 1} 项） / revoked ${ids.length} delegation(s), ${ids.length - 1} of them passed on from it` } });
    } catch (e) {
      await render(ctx, w, { status: isAppError(e) ? e.status : 400, notice: notice(e) });
    }
  });
}

