/**
 * The delegations page (/account/delegations, R-ID-8) over HTTP, as a browser without scripts
 * uses it: login first; the legal representative grants, the grantees pass on to level 3; a 4th
 * level is refused with DELEGATION_DEPTH_EXCEEDED on the page and nothing stored; wider than held
 * is DELEGATION_INVALID; an unknown grantee NOT_FOUND; a request approved by the legal
 * representative; revoking cascades; a form without its CSRF token is 403 and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BrowserFlow, CookieJar, browserFetch, pageErrorCode, parseForms, registerPerson, startTestIdp, type TestIdp } from '../../test/support/oidc.ts';
import { newCitizen } from '../../test/journey.ts';
import { creditCode, insertCompany } from '../../test/support/idp/companies.ts';

const COMPANY = creditCode('91330106MA2C00000');
const ITEM_A = 'b0f7c1f2-0001-4000-8000-000000000001';
const ITEM_B = 'b0f7c1f2-0002-4000-8000-000000000002';
/** A year ahead, as the date input sends it (YYYY-MM-DD). */
const UNTIL = new Date(Date.now() + 365 * 24 * 3600_000).toISOString().slice(0, 10);

let idp: TestIdp;
type Person = ReturnType<typeof newCitizen> & { id: string };
const people: Record<'rep' | 'p1' | 'p2' | 'p3' | 'p4', Person> = {} as never;
const NAMES = { rep: '赵法人', p1: '钱一级', p2: '孙二级', p3: '李三级', p4: '周四级' } as const;

/** One person's browser on the account pages: the last page's HTML and its forms. */
class AccountBrowser {
  readonly jar = new CookieJar();
  html = '';
  status = 0;
  static async login(p: Person): Promise<AccountBrowser> {
    const b = new AccountBrowser();
    const flow = await BrowserFlow.start(idp.issuer, { jar: b.jar, clientId: 'yiwang-account', redirectUri: `${idp.issuer}/account/callback`, scope: 'openid' });
    await flow.submit('/login', { login: p.idNumber, password: p.password });
    await b.open();
    return b;
  }
  async open(query = ''): Promise<number> {
    const res = await browserFetch(this.jar, new URL(`/account/delegations${query}`, idp.issuer));
    this.status = res.status;
    this.html = await res.text();
    return res.status;
  }
  /** Submit a form of the current page (its hidden fields, CSRF token included) with these fields. */
  async post(action: string, fields: Record<string, string> = {}, o: { withoutCsrf?: boolean } = {}): Promise<number> {
    // The session-bound token is the same in every form of the page.
    const f = parseForms(this.html).find((x) => x.action === action) ?? { action, fields: { _csrf: parseForms(this.html).find((x) => x.fields._csrf)?.fields._csrf ?? '' } };
    const sent = { ...f.fields, ...fields };
    if (o.withoutCsrf) delete sent._csrf;
    const res = await browserFetch(this.jar, new URL(action, idp.issuer), { form: sent });
    this.status = res.status;
    this.html = await res.text();
    return res.status;
  }
  revokeAction(grantee: string): string {
    const m = new RegExp(`<li data-delegation="([^"]+)">(?:(?!</li>)[\\s\\S])*?${grantee}`).exec(this.html);
    return `/account/delegations/${m![1]}/revoke`;
  }
}

const rows = async () => (await idp.db.query<{ grantee: string; level: number; status: string; scope: string[] }>(
  `select a.name as grantee, d.level, d.status, d.scope from idp.delegations d join idp.accounts a on a.id = d.grantee_account_id order by d.created_at`)).rows;

beforeAll(async () => {
  idp = await startTestIdp();
  for (const k of Object.keys(NAMES) as Array<keyof typeof NAMES>) {
    const c = { ...newCitizen(), name: NAMES[k] };
    people[k] = { ...c, ...(await registerPerson(idp.issuer, c)) };
  }
  await insertCompany(idp.db, COMPANY, people.rep.id, '杭州授权示例有限公司');
}, 60_000);
afterAll(async () => { await idp?.close(); });

describe('delegations.page', () => {
  test('asks for a login first; shows the forms in zh-CN and English', async () => {
    const res = await browserFetch(new CookieJar(), new URL('/account/delegations', idp.issuer));
    expect([res.status, res.headers.get('location')]).toEqual([302, '/account/login']);
    const rep = await AccountBrowser.login(people.rep);
    expect(rep.status).toBe(200);
    expect(rep.html).toContain('我持有的授权');
    expect(rep.html).toContain('杭州授权示例有限公司');
    expect(rep.html).toContain('for="grant-login"');
    await rep.open('?lang=en');
    expect(rep.html).toContain('Delegations I hold');
    await rep.open('?lang=zh');
  });
});

describe('delegations.grant', () => {
  test('the legal representative grants, grantees pass on to level 3; the 4th level is refused with its code and nothing is stored', async () => {
    const rep = await AccountBrowser.login(people.rep);
    // Grantee found by mobile number, checked by name.
    expect(await rep.post('/account/delegations/grant', { company: COMPANY, grantee: people.p1.mobile, granteeName: NAMES.p1, scope: `${ITEM_A}, ${ITEM_B}`, validUntil: UNTIL })).toBe(201);
    expect(rep.html).toContain('role="status"');
    expect(rep.html).toContain(NAMES.p1);

    const p1 = await AccountBrowser.login(people.p1);
    // What p1 holds: company, scope, validity, level, who granted.
    expect(p1.html).toMatch(new RegExp(`杭州授权示例有限公司[\\s\\S]*${ITEM_A}, ${ITEM_B}[\\s\\S]*– ${UNTIL}[\\s\\S]*第 1 级[\\s\\S]*授权人：${NAMES.rep}`));
    // Wider than held: DELEGATION_INVALID; an unknown name: NOT_FOUND; both shown with their code.
    expect(await p1.post('/account/delegations/grant', { company: COMPANY, grantee: people.p2.idNumber, granteeName: NAMES.p2, scope: '*', validUntil: UNTIL })).toBe(403);
    expect(pageErrorCode(p1.html)).toBe('DELEGATION_INVALID');
    expect(await p1.post('/account/delegations/grant', { company: COMPANY, grantee: people.p2.idNumber, granteeName: '别人', scope: ITEM_A, validUntil: UNTIL })).toBe(404);
    expect(pageErrorCode(p1.html)).toBe('NOT_FOUND');
    expect(await p1.post('/account/delegations/grant', { company: COMPANY, grantee: people.p2.idNumber, granteeName: NAMES.p2, scope: ITEM_A, validUntil: UNTIL })).toBe(201);

    const p2 = await AccountBrowser.login(people.p2);
    expect(await p2.post('/account/delegations/grant', { company: COMPANY, grantee: people.p3.idNumber, granteeName: NAMES.p3, scope: ITEM_A, validUntil: UNTIL })).toBe(201);

    const p3 = await AccountBrowser.login(people.p3);
    expect(p3.html).toContain('第 3 级');
    // A level-3 holder is offered no grant form; a crafted post is still refused by the rule.
    expect(p3.html).not.toContain('action="/account/delegations/grant"');
    const before = await rows();
    expect(before.map((r) => [r.grantee, r.level, r.status])).toEqual([[NAMES.p1, 1, 'active'], [NAMES.p2, 2, 'active'], [NAMES.p3, 3, 'active']]);
    expect(await p3.post('/account/delegations/grant', { company: COMPANY, grantee: people.p4.idNumber, granteeName: NAMES.p4, scope: ITEM_A, validUntil: UNTIL })).toBe(409);
    expect(pageErrorCode(p3.html)).toBe('DELEGATION_DEPTH_EXCEEDED');
    expect(p3.html).toContain('(DELEGATION_DEPTH_EXCEEDED)');
    expect(await rows()).toEqual(before);
  });

  test('a form without its CSRF token (or with a forged one) is 403 and stores nothing', async () => {
    const rep = await AccountBrowser.login(people.rep);
    const before = await rows();
    const fields = { company: COMPANY, grantee: people.p4.idNumber, granteeName: NAMES.p4, scope: ITEM_A, validUntil: UNTIL };
    expect(await rep.post('/account/delegations/grant', fields, { withoutCsrf: true })).toBe(403);
    expect(pageErrorCode(rep.html)).toBe('FORBIDDEN');
    await rep.open();
    expect(await rep.post('/account/delegations/grant', { ...fields, _csrf: 'forged' })).toBe(403);
    await rep.open();
    expect(await rep.post(rep.revokeAction(NAMES.p1), {}, { withoutCsrf: true })).toBe(403);
    expect(await rows()).toEqual(before);
  });
});

describe('delegations.request', () => {
  test('a person asks the company; the legal representative sees it pending and approves; refusals keep their code', async () => {
    const p4 = await AccountBrowser.login(people.p4);
    expect(await p4.post('/account/delegations/request', { company: `${COMPANY.slice(0, 17)}${COMPANY[17] === '0' ? '1' : '0'}`, scope: ITEM_B, validUntil: UNTIL })).toBe(400);
    expect(pageErrorCode(p4.html)).toBe('BAD_INPUT');
    expect(await p4.post('/account/delegations/request', { company: COMPANY, scope: ITEM_B, validUntil: '2001-01-01' })).toBe(400);
    expect(pageErrorCode(p4.html)).toBe('BAD_INPUT');
    expect(await p4.post('/account/delegations/request', { company: COMPANY, scope: ITEM_B, validUntil: UNTIL })).toBe(201);
    expect(p4.html).toContain('待审批');

    const rep = await AccountBrowser.login(people.rep);
    expect(rep.html).toContain('待我审批的申请');
    const decide = parseForms(rep.html).find((f) => f.action.endsWith('/decide'))!;
    // Someone else cannot decide it.
    const p1 = await AccountBrowser.login(people.p1);
    expect(await p1.post(decide.action, { decision: 'approve' })).toBe(404);
    expect(pageErrorCode(p1.html)).toBe('NOT_FOUND');
    expect(await rep.post(decide.action, { decision: 'approve' })).toBe(200);
    expect((await rows()).find((r) => r.grantee === NAMES.p4)).toMatchObject({ level: 1, status: 'active', scope: [ITEM_B] });
    expect(await rep.post(decide.action, { decision: 'reject' })).toBe(409);
    expect(pageErrorCode(rep.html)).toBe('CONFLICT');
  });
});

describe('delegations.revoke', () => {
  test('the legal representative revokes level 1: levels 2 and 3 end with it; level 3 sees it revoked; a second revocation is CONFLICT', async () => {
    const rep = await AccountBrowser.login(people.rep);
    expect(await rep.post(rep.revokeAction(NAMES.p1))).toBe(200);
    expect(rep.html).toContain('已撤销 3 项授权');
    expect((await rows()).filter((r) => r.grantee !== NAMES.p4).map((r) => r.status)).toEqual(['revoked', 'revoked', 'revoked']);
    const p3 = await AccountBrowser.login(people.p3);
    expect(p3.html).toMatch(/第 3 级 · 已撤销/);
    // Revoking again: CONFLICT, shown with its code.
    expect(await rep.post(rep.revokeAction(NAMES.p4))).toBe(200);
    const stale = rep.revokeAction(NAMES.p1);
    expect(stale).toMatch(/\/revoke$/);
    expect(await rep.post(stale)).toBe(409);
    expect(pageErrorCode(rep.html)).toBe('CONFLICT');
  });
});
