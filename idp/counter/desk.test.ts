/**
 * The counter desk pages (R-ID-2 at the service window) over HTTP with a browser's cookie jar:
 * who may use them (receiver staff only, read afresh), CSRF, each refusal shown with its code
 * and the typed values kept, a registration from start to activation with a code sent again, a
 * company with a delegate and a reset at the counter, and the audit entries they leave. The
 * same flow in Chromium, by keyboard, with the applicant's first login: desk.browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { DEMO_CITIZEN, DEMO_STAFF } from '../../kernel/demo.ts';
import { maskIdNumber, maskMobile } from '../../kernel/ids.ts';
import { newCitizen } from '../../test/journey.ts';
import { creditCode } from '../../test/support/idp/companies.ts';
import { BrowserFlow, CookieJar, browserFetch, pageErrorCode, parseForms, registerPerson, startTestIdp, type TestIdp } from '../../test/support/oidc.ts';

let idp: TestIdp;
const staff = (role: string) => DEMO_STAFF.find((s) => s.roles.includes(role as never))!;
const receiver = staff('receiver');

beforeAll(async () => {
  idp = await startTestIdp({ env: { IDP_OTP_RESEND_SECONDS: '0' } });
});
afterAll(async () => { await idp?.close(); });

/** A browser logged in to the IdP (the account pages' login) as `login`. */
async function loggedIn(login: string, password: string): Promise<CookieJar> {
  const jar = new CookieJar();
  const flow = await BrowserFlow.start(idp.issuer, { jar, clientId: 'yiwang-account', redirectUri: `${idp.issuer}/account/callback`, scope: 'openid' });
  await flow.submit('/login', { login, password });
  expect(flow.callback).toBeDefined();
  return jar;
}

const desk = (path = '') => new URL(`/counter/desk${path}`, idp.issuer);
async function open(jar: CookieJar) {
  const res = await browserFetch(jar, desk());
  return { status: res.status, html: await res.text() };
}
/** Post the desk's form whose action ends with `suffix`, with its CSRF token. */
async function send(jar: CookieJar, html: string, suffix: string, fields: Record<string, string>) {
  const f = parseForms(html).find((x) => x.action.endsWith(suffix));
  if (!f) throw new Error(`no form ending in ${suffix}`);
  const res = await browserFetch(jar, new URL(f.action, idp.issuer), { form: { ...f.fields, ...fields } });
  const text = await res.text();
  return { status: res.status, html: text, code: pageErrorCode(text) };
}
const audit = async (action: string, target: string) =>
  (await idp.db.query<{ actor_id: string }>('select actor_id from idp.audit_log where action = $1 and target = $2', [action, target])).rows.map((r) => r.actor_id);
const count = async () => Number((await idp.db.query<{ n: number }>('select count(*)::int as n from idp.accounts')).rows[0]!.n);

describe('counter.desk', () => {
  test('not logged in: to the login, which comes back to the desk; other staff and citizens get 403', async () => {
    const anon = await browserFetch(new CookieJar(), desk());
    expect([anon.status, anon.headers.get('location')]).toEqual([302, '/account/login?next=%2Fcounter%2Fdesk']);
    const start = await browserFetch(new CookieJar(), new URL(anon.headers.get('location')!, idp.issuer));
    expect(decodeURIComponent(start.headers.get('location') ?? '')).toContain('client_id=yiwang-account');
    for (const [login, password] of [[staff('acceptor').username, staff('acceptor').password], [DEMO_CITIZEN.mobile, DEMO_CITIZEN.password]] as const) {
      const page = await open(await loggedIn(login, password));
      expect([page.status, pageErrorCode(page.html)]).toEqual([403, 'FORBIDDEN']);
      expect(page.html).not.toContain('/counter/desk/persons');
    }
  });

  test('register, a wrong code, a new code, activate: the initial password shown once; every act audited by the staff member', async () => {
    const jar = await loggedIn(receiver.username, receiver.password);
    const c = newCitizen();
    let page = await open(jar);
    expect(page.status).toBe(200);

    // A refusal keeps what was typed.
    const bad = await send(jar, page.html, '/counter/desk/persons', { name: c.name, idNumber: `${c.idNumber.slice(0, 17)}${c.idNumber[17] === '1' ? '2' : '1'}`, mobile: c.mobile });
    expect([bad.status, bad.code]).toEqual([400, 'ID_NUMBER_INVALID']);
    expect(bad.html).toContain(`value="${c.mobile}"`);

    const started = await send(jar, page.html, '/counter/desk/persons', { name: c.name, idNumber: c.idNumber, mobile: c.mobile });
    expect(started.status).toBe(201);
    expect(started.html).toContain(maskMobile(c.mobile));
    // Waiting for activation, masked (R-ID-11).
    expect(started.html).toContain(maskIdNumber(c.idNumber));
    expect(started.html).not.toContain(c.idNumber);
    const id = /data-pending="([0-9a-f-]{36})"/.exec(started.html)![1]!;
    const first = await idp.lastCode(c.mobile, 'otp.counter');

    const resent = await send(jar, started.html, `/persons/${id}/resend`, {});
    expect(resent.status).toBe(200);
    const code = await idp.lastCode(c.mobile, 'otp.counter');
    expect((await idp.notices()).filter((n) => n.to === c.mobile && n.template === 'otp.counter')).toHaveLength(2);
    const wrong = await send(jar, resent.html, `/persons/${id}/activate`, { code: code === '000000' ? '111111' : '000000' });
    expect([wrong.status, wrong.code]).toEqual([400, 'OTP_INVALID']);
    if (first !== code) expect((await send(jar, wrong.html, `/persons/${id}/activate`, { code: first })).code).toBe('OTP_INVALID');

    const done = await send(jar, wrong.html, `/persons/${id}/activate`, { code });
    expect(done.status).toBe(200);
    const initial = /id="initial-password"[^>]*>([^<]+)</.exec(done.html)![1]!;
    expect(initial).toMatch(/^(?=.*[a-z])(?=.*[A-Z])(?=.*\d).{12}$/);
    expect(done.html).not.toContain(`data-pending="${id}"`);
    // The page holding the password is never cached; reloading the desk does not show it again.
    const again = await open(jar);
    expect(again.html).not.toContain('initial-password');
    expect((await idp.db.query('select status, must_change_password, assurance_level from idp.accounts where id = $1', [id])).rows[0])
      .toEqual({ status: 'active', must_change_password: true, assurance_level: 5 });
    for (const action of ['counter.person.start', 'counter.person.resend', 'counter.person.activate']) expect(await audit(action, id)).toEqual([receiver.id]);
  });

  test('a company with a delegate needs the power of attorney; a reset at the counter gives a new initial password', async () => {
    const jar = await loggedIn(receiver.username, receiver.password);
    const rep = newCitizen();
    const delegate = newCitizen();
    await registerPerson(idp.issuer, rep);
    await registerPerson(idp.issuer, delegate);
    const page = await open(jar);
    const code = creditCode('91330106MA2B00005');
    // Typed in lower case: the desk upper-cases it.
    const fields = { creditCode: code.toLowerCase(), name: '杭州窗口页面示范有限公司', legalRepIdNumber: rep.idNumber, delegateIdNumber: delegate.idNumber, powerOfAttorney: '' };
    const refused = await send(jar, page.html, '/counter/desk/companies', fields);
    expect([refused.status, refused.code]).toEqual([400, 'POWER_OF_ATTORNEY_REQUIRED']);
    expect(refused.html).toContain('value="杭州窗口页面示范有限公司"');
    const ok = await send(jar, page.html, '/counter/desk/companies', { ...fields, powerOfAttorney: 'POA-2026-009' });
    expect(ok.status).toBe(201);
    const row = (await idp.db.query<{ id: string; power_of_attorney: string; route: string }>('select id, power_of_attorney, route from idp.companies where credit_code = $1', [code])).rows[0]!;
    expect(row).toMatchObject({ power_of_attorney: 'POA-2026-009', route: 'counter' });
    expect(await audit('counter.company.register', row.id)).toEqual([receiver.id]);

    const reset = await send(jar, page.html, '/counter/desk/password-resets', { name: rep.name, idNumber: rep.idNumber });
    expect(reset.status).toBe(200);
    const initial = /id="initial-password"[^>]*>([^<]+)</.exec(reset.html)![1]!;
    const login = await BrowserFlow.start(idp.issuer);
    await login.submit('/login', { login: rep.idNumber, password: initial });
    expect(login.html).toContain('name="password2"');
  });

  test('a forged form is 403 and stores nothing; staff who lose the role lose the desk at once', async () => {
    const jar = await loggedIn(receiver.username, receiver.password);
    const page = await open(jar);
    const before = await count();
    const c = newCitizen();
    const forged = await send(jar, page.html, '/counter/desk/persons', { _csrf: 'forged', name: c.name, idNumber: c.idNumber, mobile: c.mobile });
    expect([forged.status, forged.code]).toEqual([403, 'FORBIDDEN']);
    // Another browser (not logged in) cannot post either: to the login.
    const f = parseForms(page.html).find((x) => x.action.endsWith('/counter/desk/persons'))!;
    const other = await browserFetch(new CookieJar(), new URL(f.action, idp.issuer), { form: { ...f.fields, name: c.name, idNumber: c.idNumber, mobile: c.mobile } });
    expect(other.status).toBe(302);
    expect(await count()).toBe(before);

    await idp.db.query(`update idp.accounts set roles = array_remove(roles, 'receiver') where id = $1`, [receiver.id]);
    try {
      const refused = await send(jar, page.html, '/counter/desk/persons', { name: c.name, idNumber: c.idNumber, mobile: c.mobile });
      expect([refused.status, refused.code]).toEqual([403, 'FORBIDDEN']);
      expect((await open(jar)).status).toBe(403);
      expect(await count()).toBe(before);
    } finally {
      await idp.db.query('update idp.accounts set roles = $2 where id = $1', [receiver.id, receiver.roles]);
    }
  });
});
