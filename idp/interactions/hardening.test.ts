/**
 * Hardening of the half-done login: the first-login password page only
 * for an account that must change its password and a login that proved that password (R-ID-2,
 * R-ID-6), and step-up codes voided by too many wrong entries count towards the lockout (R-ID-5).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { decodeJwt } from 'jose';
import { newCitizen } from '../../test/journey.ts';
import { BrowserFlow, registerPerson, startTestIdp, type TestIdp } from '../../test/support/oidc.ts';

let idp: TestIdp;
beforeAll(async () => {
  idp = await startTestIdp({ env: { IDP_OTP_MAX_ATTEMPTS: '1', IDP_LOGIN_MAX_FAILURES: '2', IDP_LOGIN_IP_MAX_FAILURES: '50', IDP_OTP_RESEND_SECONDS: '0' } });
});
afterAll(async () => { await idp?.close(); });

async function person(o: { level5?: boolean; mustChange?: boolean } = {}) {
  const c = newCitizen();
  const { id } = await registerPerson(idp.issuer, c);
  if (o.level5) await idp.db.query(`update idp.accounts set assurance_level = 5, proofing = 'counter' where id = $1`, [id]);
  if (o.mustChange) await idp.db.query('update idp.accounts set must_change_password = true where id = $1', [id]);
  return { ...c, id };
}
const hashOf = async (id: string) => (await idp.db.query<{ h: string }>('select password_hash as h from idp.accounts where id = $1', [id])).rows[0]!.h;
const wrong = (code: string) => (code === '000000' ? '111111' : '000000');

describe('hardening.first-password', () => {
  test('holding only the SMS code, the step-up stage cannot set a password (FORBIDDEN); nothing changes', async () => {
    const p = await person({ level5: true });
    const before = await hashOf(p.id);
    const flow = await BrowserFlow.start(idp.issuer, { params: { acr_values: 'urn:yiwang:loa:4' } });
    await flow.submit('/sms/send', { mobile: p.mobile });
    await flow.submit('/sms/verify', { code: await idp.lastCode(p.mobile, 'otp.login') });
    expect(flow.html).toContain('stepup-password');
    // The page has no /password form: post it by hand with the step-up page's CSRF token.
    await flow.submitTo('/password', { password: 'Taken#2026over', password2: 'Taken#2026over' });
    expect([flow.status, flow.errorCode, flow.callback]).toEqual([403, 'FORBIDDEN', undefined]);
    expect(await hashOf(p.id)).toBe(before);
    expect((await idp.db.query('select must_change_password as m from idp.accounts where id = $1', [p.id])).rows[0]).toEqual({ m: false });
  });

  test('an account that must change its password cannot do it after an SMS login (PASSWORD_CHANGE_REQUIRED); with the password it can', async () => {
    const p = await person({ mustChange: true });
    const before = await hashOf(p.id);
    const sms = await BrowserFlow.start(idp.issuer);
    await sms.submit('/sms/send', { mobile: p.mobile });
    await sms.submit('/sms/verify', { code: await idp.lastCode(p.mobile, 'otp.login') });
    expect([sms.errorCode, sms.callback]).toEqual(['PASSWORD_CHANGE_REQUIRED', undefined]);
    await sms.submitTo('/password', { password: 'Taken#2026over', password2: 'Taken#2026over' });
    expect(sms.errorCode).toBe('INTERACTION_EXPIRED');
    expect(await hashOf(p.id)).toBe(before);

    const pwd = await BrowserFlow.start(idp.issuer);
    await pwd.submit('/login', { login: p.idNumber, password: p.password });
    expect(pwd.html).toContain('name="password2"');
    await pwd.submit('/password', { password: 'Mine#2026pass', password2: 'Mine#2026pass' });
    expect(decodeJwt((await pwd.tokens()).id_token!)).toMatchObject({ sub: p.id, amr: ['pwd'] });
    expect(await hashOf(p.id)).not.toBe(before);
  });
});

describe('hardening.stepup-lockout', () => {
  test('step-up codes voided by OTP_TOO_MANY_ATTEMPTS count as failures: the account locks', async () => {
    const p = await person({ level5: true });
    const flow = await BrowserFlow.start(idp.issuer, { params: { acr_values: 'urn:yiwang:loa:5' } });
    await flow.submit('/login', { login: p.idNumber, password: p.password });
    for (let i = 0; i < 2; i++) {
      await flow.submit('/stepup/send');
      await flow.submit('/stepup', { code: wrong(await idp.lastCode(p.mobile, 'otp.stepup')) });
      expect(flow.errorCode).toBe('OTP_TOO_MANY_ATTEMPTS');
    }
    await flow.submit('/stepup/send');
    await flow.submit('/stepup', { code: await idp.lastCode(p.mobile, 'otp.stepup') });
    expect([flow.status, flow.errorCode, flow.callback]).toEqual([429, 'LOGIN_LOCKED', undefined]);
    // acr_values is only a wish, so the page offers to go on at L3: not while the account is locked.
    await flow.submit('/stepup/skip');
    expect([flow.status, flow.errorCode, flow.callback]).toEqual([429, 'LOGIN_LOCKED', undefined]);
  });
});
