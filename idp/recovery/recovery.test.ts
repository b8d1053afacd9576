/**
 * Password reset by SMS (R-ID-6), as JSON and through the /recover page: the code to the bound
 * mobile resets the password; a wrong or replayed code changes nothing; an unknown login gets
 * the same answer and no SMS; a reset also lifts a brute-force lock.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { newCitizen } from '../../test/journey.ts';
import { BrowserFlow, CookieJar, browserFetch, callApi, loginWithPkce, pageErrorCode, parseForms, registerPerson, startTestIdp, type TestIdp } from '../../test/support/oidc.ts';

let idp: TestIdp;
beforeAll(async () => { idp = await startTestIdp({ seed: false, env: { IDP_OTP_RESEND_SECONDS: '0', IDP_LOGIN_MAX_FAILURES: '2' } }); });
afterAll(async () => { await idp?.close(); });

const REDIRECT = 'http://127.0.0.1:3000/callback';
const canLogin = async (login: string, password: string) => {
  const f = await BrowserFlow.start(idp.issuer);
  await f.submit('/login', { login, password });
  return f.errorCode ?? 'OK';
};

describe('recovery.json', () => {
  test('code to the bound mobile, then a new password; the old one stops working; the code is single use', async () => {
    const c = newCitizen();
    await registerPerson(idp.issuer, c);
    expect(await callApi(idp.issuer, 'POST', '/recover/code', { body: { login: c.idNumber } })).toMatchObject({ status: 202 });
    const code = await idp.lastCode(c.mobile, 'otp.reset');
    const weak = await callApi(idp.issuer, 'POST', '/recover/reset', { body: { login: c.idNumber, code, password: 'weak' } });
    expect(weak.body.code).toBe('PASSWORD_WEAK');
    const wrong = await callApi(idp.issuer, 'POST', '/recover/reset', { body: { login: c.idNumber, code: code === '000000' ? '111111' : '000000', password: 'Reset#2026pass' } });
    expect(wrong.body.code).toBe('OTP_INVALID');
    expect(await canLogin(c.idNumber, c.password)).toBe('OK');
    const ok = await callApi(idp.issuer, 'POST', '/recover/reset', { body: { login: c.mobile, code, password: 'Reset#2026pass' } });
    expect(ok.status).toBe(200);
    const replay = await callApi(idp.issuer, 'POST', '/recover/reset', { body: { login: c.mobile, code, password: 'Again#2026pass' } });
    expect(replay.body.code).toBe('OTP_INVALID');
    expect(await canLogin(c.idNumber, c.password)).toBe('LOGIN_FAILED');
    await loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, login: c.idNumber, password: 'Reset#2026pass' });
  });

  test('an unknown login gets the same 202 and no SMS is sent', async () => {
    const before = (await idp.notices()).length;
    expect(await callApi(idp.issuer, 'POST', '/recover/code', { body: { login: '13900000002' } })).toMatchObject({ status: 202, body: { sent: 'if-registered' } });
    expect((await idp.notices()).length).toBe(before);
  });

  test('a reset lifts the lock that failed logins put on the account', async () => {
    const c = newCitizen();
    await registerPerson(idp.issuer, c);
    await canLogin(c.idNumber, 'Wrong#pass1');
    await canLogin(c.idNumber, 'Wrong#pass1');
    expect(await canLogin(c.idNumber, c.password)).toBe('LOGIN_LOCKED');
    await callApi(idp.issuer, 'POST', '/recover/code', { body: { login: c.idNumber } });
    await callApi(idp.issuer, 'POST', '/recover/reset', { body: { login: c.idNumber, code: await idp.lastCode(c.mobile, 'otp.reset'), password: 'Reset#2026pass' } });
    expect(await canLogin(c.idNumber, 'Reset#2026pass')).toBe('OK');
  });
});

describe('recovery.page', () => {
  test('the /recover form: CSRF-protected, two steps', async () => {
    const c = newCitizen();
    await registerPerson(idp.issuer, c);
    const jar = new CookieJar();
    const url = new URL('/recover', idp.issuer);
    const page = await (await browserFetch(jar, url)).text();
    expect(page).toContain('for="recover-login"');
    const [form] = parseForms(page);
    const forged = await browserFetch(new CookieJar(), url, { form: { ...form!.fields, login: c.idNumber } });
    expect(forged.status).toBe(403);
    const sent = await (await browserFetch(jar, url, { form: { ...form!.fields, login: c.idNumber } })).text();
    expect(sent).toContain('for="recover-code"');
    const [step2] = parseForms(sent);
    const done = await browserFetch(jar, url, { form: { ...step2!.fields, code: await idp.lastCode(c.mobile, 'otp.reset'), password: 'Paged#2026pass' } });
    const html = await done.text();
    expect([done.status, pageErrorCode(html)]).toEqual([200, undefined]);
    expect(await canLogin(c.mobile, 'Paged#2026pass')).toBe('OK');
  });
});
