/**
 * Counter registration (R-ID-2) and companies (R-ID-4): staff start a registration, the
 * applicant confirms with the SMS code, staff activate it and hand over a random initial
 * password that must be changed at first login; companies by unified social credit code,
 * online by registry comparison or at a counter (with a delegate's power of attorney).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { decodeJwt } from 'jose';
import { DEMO_CITIZEN, DEMO_STAFF } from '../../kernel/demo.ts';
import { newCitizen } from '../../test/journey.ts';
import { AGREEMENT } from '../accounts/store.ts';
import { DEMO_COMPANY } from '../dev-registry.ts';
import { BrowserFlow, callApi, loginWithPkce, registerPerson, startTestIdp, type TestIdp } from '../../test/support/oidc.ts';

let idp: TestIdp;
let receiver: string;
let acceptor: string;
let citizen: string;
const REDIRECT = 'http://127.0.0.1:3000/callback';
const token = async (login: string, password: string) => (await loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, login, password })).access_token;
const staff = (role: string) => DEMO_STAFF.find((s) => s.roles.includes(role as never))!;

beforeAll(async () => {
  idp = await startTestIdp({ env: { IDP_OTP_RESEND_SECONDS: '0' } });
  receiver = await token(staff('receiver').username, staff('receiver').password);
  acceptor = await token(staff('acceptor').username, staff('acceptor').password);
  citizen = await token(DEMO_CITIZEN.idNumber, DEMO_CITIZEN.password);
});
afterAll(async () => { await idp?.close(); });

const count = async (table = 'accounts') => Number((await idp.db.query<{ n: number }>(`select count(*)::int as n from idp.${table}`)).rows[0]!.n);

describe('counter.persons', () => {
  test('R-ID-2: start → SMS code → activate → first login changes the random initial password; the account is L5', async () => {
    const c = newCitizen();
    const started = await callApi(idp.issuer, 'POST', '/counter/persons', { token: receiver, body: { name: c.name, idNumber: c.idNumber, mobile: c.mobile } });
    expect(started).toMatchObject({ status: 201, body: { status: 'pending' } });
    const id = started.body.id as string;

    // Pending: no login yet.
    const early = await BrowserFlow.start(idp.issuer);
    await early.submit('/login', { login: c.idNumber, password: 'Anything#1x' });
    expect(early.errorCode).toBe('LOGIN_FAILED');

    const code = await idp.lastCode(c.mobile, 'otp.counter');
    const wrong = await callApi(idp.issuer, 'POST', `/counter/persons/${id}/activate`, { token: receiver, body: { code: code === '000000' ? '111111' : '000000' } });
    expect(wrong.body.code).toBe('OTP_INVALID');
    const activated = await callApi(idp.issuer, 'POST', `/counter/persons/${id}/activate`, { token: receiver, body: { code } });
    expect(activated.status).toBe(200);
    expect(activated.body).toMatchObject({ id, loginName: c.idNumber });
    const initial = activated.body.initialPassword as string;
    expect(initial).toMatch(/^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)(?=.*[^A-Za-z\d]).{12}$/);
    const row = (await idp.db.query<Record<string, any>>('select * from idp.accounts where id = $1', [id])).rows[0]!;
    expect(row).toMatchObject({ status: 'active', proofing: 'counter', assurance_level: 5, must_change_password: true, agreement_version: AGREEMENT.version, registered_by: staff('receiver').id });
    expect(row.factors).toEqual([expect.objectContaining({ type: 'mobile', verified: true, source: 'sms' })]);
    expect(JSON.stringify(row)).not.toContain(initial);
    // Activated once only.
    expect((await callApi(idp.issuer, 'POST', `/counter/persons/${id}/activate`, { token: receiver, body: { code } })).body.code).toBe('NOT_FOUND');

    const first = await BrowserFlow.start(idp.issuer);
    await first.submit('/login', { login: c.idNumber, password: initial });
    expect(first.html).toContain('name="password2"');
    await first.submit('/password', { password: 'Mine#2026pass', password2: 'Other#2026pass' });
    expect(first.errorCode).toBe('BAD_INPUT');
    await first.submit('/password', { password: 'weak', password2: 'weak' });
    expect(first.errorCode).toBe('PASSWORD_WEAK');
    await first.submit('/password', { password: 'Mine#2026pass', password2: 'Mine#2026pass' });
    const r = await first.tokens();
    expect(decodeJwt(r.id_token!)).toMatchObject({ sub: id, acr: 'urn:yiwang:loa:3', amr: ['pwd'] });

    // The initial password is gone; the new one works without another change.
    const old = await BrowserFlow.start(idp.issuer);
    await old.submit('/login', { login: c.idNumber, password: initial });
    expect(old.errorCode).toBe('LOGIN_FAILED');
    await loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, login: c.mobile, password: 'Mine#2026pass' });
  });

  test('only receiver staff may do it; a citizen or another role is FORBIDDEN; no token is 401; nothing is stored', async () => {
    const c = newCitizen();
    const before = await count();
    expect((await callApi(idp.issuer, 'POST', '/counter/persons', { token: citizen, body: c })).body.code).toBe('FORBIDDEN');
    expect((await callApi(idp.issuer, 'POST', '/counter/persons', { token: acceptor, body: c })).body.code).toBe('FORBIDDEN');
    expect((await callApi(idp.issuer, 'POST', '/counter/persons', { body: c })).status).toBe(401);
    expect((await callApi(idp.issuer, 'POST', '/counter/persons', { token: `${receiver.slice(0, -4)}AAAA`, body: c })).body.code).toBe('TOKEN_INVALID');
    expect((await callApi(idp.issuer, 'POST', '/counter/persons', { token: receiver, body: { ...c, idNumber: c.idNumber.slice(0, 17) + (c.idNumber[17] === '1' ? '2' : '1') } })).body.code).toBe('ID_NUMBER_INVALID');
    expect((await callApi(idp.issuer, 'POST', '/counter/persons', { token: receiver, body: { ...c, name: DEMO_CITIZEN.name, idNumber: DEMO_CITIZEN.idNumber } })).body.code).toBe('ACCOUNT_EXISTS');
    expect(await count()).toBe(before);
  });
});

describe('counter.companies', () => {
  test('online: the legal representative registers the company the business registry confirms', async () => {
    const before = await count('companies');
    const bad = await callApi(idp.issuer, 'POST', '/account/api/companies', { token: citizen, body: { creditCode: '91330106MA2B00001X', name: DEMO_COMPANY.name, agreementVersion: AGREEMENT.version } });
    expect(bad.body.code).toBe('CREDIT_CODE_INVALID');
    const wrongName = await callApi(idp.issuer, 'POST', '/account/api/companies', { token: citizen, body: { creditCode: DEMO_COMPANY.creditCode, name: '别的公司', agreementVersion: AGREEMENT.version } });
    expect(wrongName.body.code).toBe('COMPANY_UNVERIFIED');
    const noAgreement = await callApi(idp.issuer, 'POST', '/account/api/companies', { token: citizen, body: { creditCode: DEMO_COMPANY.creditCode, name: DEMO_COMPANY.name } });
    expect(noAgreement.body.code).toBe('BAD_INPUT');
    // Someone else is not its legal representative.
    const other = newCitizen();
    await registerPerson(idp.issuer, other);
    const otherToken = await token(other.idNumber, other.password);
    const notRep = await callApi(idp.issuer, 'POST', '/account/api/companies', { token: otherToken, body: { creditCode: DEMO_COMPANY.creditCode, name: DEMO_COMPANY.name, agreementVersion: AGREEMENT.version } });
    expect(notRep.body.code).toBe('COMPANY_UNVERIFIED');
    // A self-declared (L2) account cannot bind a company; staff cannot either.
    const l2 = newCitizen();
    const { id: l2Id } = await registerPerson(idp.issuer, l2);
    await idp.db.query(`update idp.accounts set assurance_level = 2, proofing = 'self-declared' where id = $1`, [l2Id]);
    const l2Token = await token(l2.idNumber, l2.password);
    expect((await callApi(idp.issuer, 'POST', '/account/api/companies', { token: l2Token, body: { creditCode: DEMO_COMPANY.creditCode, name: DEMO_COMPANY.name, agreementVersion: AGREEMENT.version } })).body.code).toBe('ASSURANCE_INSUFFICIENT');
    expect((await callApi(idp.issuer, 'POST', '/account/api/companies', { token: receiver, body: { creditCode: DEMO_COMPANY.creditCode, name: DEMO_COMPANY.name, agreementVersion: AGREEMENT.version } })).body.code).toBe('FORBIDDEN');
    expect(await count('companies')).toBe(before);

    const ok = await callApi(idp.issuer, 'POST', '/account/api/companies', { token: citizen, body: { creditCode: DEMO_COMPANY.creditCode, name: DEMO_COMPANY.name, agreementVersion: AGREEMENT.version } });
    expect(ok).toMatchObject({ status: 201, body: { creditCode: DEMO_COMPANY.creditCode, legalRepAccountId: DEMO_CITIZEN.id, route: 'registry', assuranceLevel: 3 } });
    const again = await callApi(idp.issuer, 'POST', '/account/api/companies', { token: citizen, body: { creditCode: DEMO_COMPANY.creditCode, name: DEMO_COMPANY.name, agreementVersion: AGREEMENT.version } });
    expect(again.body.code).toBe('COMPANY_EXISTS');
    const me = await callApi(idp.issuer, 'GET', '/account/api/me', { token: citizen });
    expect(me.body.companies).toEqual([expect.objectContaining({ creditCode: DEMO_COMPANY.creditCode })]);
  });

  test('at a counter: a delegate needs the power of attorney; the company is L5 and records the delegate', async () => {
    const rep = newCitizen();
    await registerPerson(idp.issuer, rep);
    const delegate = newCitizen();
    await registerPerson(idp.issuer, delegate);
    const body = { creditCode: '91330106MA2B000022', name: '杭州窗口示范有限公司', legalRepIdNumber: rep.idNumber, delegateIdNumber: delegate.idNumber };
    expect((await callApi(idp.issuer, 'POST', '/counter/companies', { token: receiver, body })).body.code).toBe('POWER_OF_ATTORNEY_REQUIRED');
    expect((await callApi(idp.issuer, 'POST', '/counter/companies', { token: citizen, body: { ...body, powerOfAttorney: 'POA-2026-001' } })).body.code).toBe('FORBIDDEN');
    expect((await callApi(idp.issuer, 'POST', '/counter/companies', { token: receiver, body: { ...body, legalRepIdNumber: '11010519491231002X', powerOfAttorney: 'POA-2026-001' } })).body.code).toBe('NOT_FOUND');
    const ok = await callApi(idp.issuer, 'POST', '/counter/companies', { token: receiver, body: { ...body, powerOfAttorney: 'POA-2026-001' } });
    expect(ok).toMatchObject({ status: 201, body: { route: 'counter', assuranceLevel: 5, delegateAccountId: expect.any(String) } });
    const row = (await idp.db.query<Record<string, any>>('select * from idp.companies where id = $1', [ok.body.id])).rows[0]!;
    expect(row).toMatchObject({ power_of_attorney: 'POA-2026-001', registered_by: staff('receiver').id, registered_platform: 'yiwang' });
  });
});

describe('counter.password-reset', () => {
  test('with the ID card at a counter: a new random password, to be changed at the next login (R-ID-6)', async () => {
    const c = newCitizen();
    await registerPerson(idp.issuer, c);
    expect((await callApi(idp.issuer, 'POST', '/counter/password-resets', { token: citizen, body: { name: c.name, idNumber: c.idNumber } })).body.code).toBe('FORBIDDEN');
    expect((await callApi(idp.issuer, 'POST', '/counter/password-resets', { token: receiver, body: { name: '别人', idNumber: c.idNumber } })).body.code).toBe('NOT_FOUND');
    const r = await callApi(idp.issuer, 'POST', '/counter/password-resets', { token: receiver, body: { name: c.name, idNumber: c.idNumber } });
    expect(r).toMatchObject({ status: 200, body: { loginName: c.idNumber, initialPassword: expect.any(String) } });
    const flow = await BrowserFlow.start(idp.issuer);
    await flow.submit('/login', { login: c.idNumber, password: c.password });
    expect(flow.errorCode).toBe('LOGIN_FAILED');
    const next = await BrowserFlow.start(idp.issuer);
    await next.submit('/login', { login: c.idNumber, password: r.body.initialPassword });
    expect(next.html).toContain('name="password2"');
    await next.submit('/password', { password: 'After#2026reset', password2: 'After#2026reset' });
    expect(decodeJwt((await next.tokens()).id_token!)).toMatchObject({ sub: r.body.id });
  });
});

describe('counter.audit', () => {
  const entries = async (action: string, target: string) =>
    (await idp.db.query<{ actor_id: string; details: Record<string, unknown> }>('select actor_id, details from idp.audit_log where action = $1 and target = $2', [action, target])).rows;

  test('every counter act is in the audit log, by the staff member, with masked values only; the chain verifies', async () => {
    const c = newCitizen();
    const started = await callApi(idp.issuer, 'POST', '/counter/persons', { token: receiver, body: { name: c.name, idNumber: c.idNumber, mobile: c.mobile } });
    const id = started.body.id as string;
    const code = await idp.lastCode(c.mobile, 'otp.counter');
    expect((await callApi(idp.issuer, 'POST', `/counter/persons/${id}/activate`, { token: receiver, body: { code } })).status).toBe(200);
    expect((await callApi(idp.issuer, 'POST', '/counter/password-resets', { token: receiver, body: { name: c.name, idNumber: c.idNumber } })).status).toBe(200);
    const company = await callApi(idp.issuer, 'POST', '/counter/companies', { token: receiver, body: { creditCode: '91330106MA2B000035', name: '杭州审计示范有限公司', legalRepIdNumber: c.idNumber } });
    expect(company.status).toBe(201);
    const by = staff('receiver').id;
    expect(await entries('counter.person.start', id)).toEqual([{ actor_id: by, details: { idNumber: expect.stringMatching(/\*/), mobileLast4: c.mobile.slice(-4) } }]);
    expect(await entries('counter.person.activate', id)).toEqual([expect.objectContaining({ actor_id: by })]);
    expect(await entries('counter.password-reset', id)).toEqual([expect.objectContaining({ actor_id: by })]);
    expect(await entries('counter.company.register', company.body.id)).toEqual([expect.objectContaining({ actor_id: by, details: expect.objectContaining({ creditCode: '91330106MA2B000035' }) })]);
    const all = JSON.stringify((await idp.db.query('select details from idp.audit_log')).rows);
    expect(all).not.toContain(c.idNumber);
    expect(all).not.toContain(c.mobile);
    const { auditKey, createAuditLog } = await import('../audit/log.ts');
    expect(await createAuditLog(idp.db, { key: auditKey(idp.deps.secrets.internalSecret), cache: idp.deps.cache }).verify()).toMatchObject({ ok: true });
  });

  test('a refused act leaves no entry and no account', async () => {
    const before = await count('audit_log');
    const accountsBefore = await count();
    const c = newCitizen();
    expect((await callApi(idp.issuer, 'POST', '/counter/persons', { token: receiver, body: { name: c.name, idNumber: DEMO_CITIZEN.idNumber, mobile: c.mobile } })).status).toBeGreaterThanOrEqual(400);
    expect((await callApi(idp.issuer, 'POST', '/counter/password-resets', { token: receiver, body: { name: '别人', idNumber: DEMO_CITIZEN.idNumber } })).body.code).toBe('NOT_FOUND');
    expect([await count('audit_log'), await count()]).toEqual([before, accountsBefore]);
  });

  test('staff disabled (or losing the receiver role) lose counter powers at once, whatever their token says; nothing is stored', async () => {
    const s = staff('receiver');
    const token = receiver;
    const before = [await count(), await count('audit_log')];
    try {
      await idp.db.query('update idp.accounts set disabled = true where id = $1', [s.id]);
      const c = newCitizen();
      expect((await callApi(idp.issuer, 'POST', '/counter/persons', { token, body: { name: c.name, idNumber: c.idNumber, mobile: c.mobile } })).body.code).toBe('FORBIDDEN');
      expect((await callApi(idp.issuer, 'POST', '/counter/password-resets', { token, body: { name: DEMO_CITIZEN.name, idNumber: DEMO_CITIZEN.idNumber } })).body.code).toBe('FORBIDDEN');
      await idp.db.query(`update idp.accounts set disabled = false, roles = array_remove(roles, 'receiver') where id = $1`, [s.id]);
      expect((await callApi(idp.issuer, 'POST', '/counter/companies', { token, body: { creditCode: '91330106MA2B000048', name: '某公司', legalRepIdNumber: DEMO_CITIZEN.idNumber } })).body.code).toBe('FORBIDDEN');
      expect([await count(), await count('audit_log')]).toEqual(before);
    } finally {
      await idp.db.query(`update idp.accounts set disabled = false, roles = $2 where id = $1`, [s.id, s.roles]);
    }
  });
});

