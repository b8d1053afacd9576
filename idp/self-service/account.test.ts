/**
 * Account self-service: the profile (R-ID-11 masked ID, level, factors, where registered),
 * change of bound mobile (R-ID-7: old number, then new), listing and ending one's own sessions
 * (an ended session's refresh token stops working), and the /account pages behind a login.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import { maskIdNumber } from '../../kernel/ids.ts';
import { DEMO_CITIZEN } from '../../kernel/demo.ts';
import { newCitizen } from '../../test/journey.ts';
import { BrowserFlow, CookieJar, browserFetch, callApi, loginWithPkce, parseForms, registerPerson, startTestIdp, type TestIdp } from '../../test/support/oidc.ts';

let idp: TestIdp;
const REDIRECT = 'http://127.0.0.1:3000/callback';
beforeAll(async () => { idp = await startTestIdp({ env: { IDP_OTP_RESEND_SECONDS: '0' } }); });
afterAll(async () => { await idp?.close(); });
const login = (l: string, p: string) => loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, login: l, password: p });

describe('account.profile', () => {
  test('the masked ID number, the level, the verified factors and where the account was registered; never the full number', async () => {
    const r = await callApi(idp.issuer, 'GET', '/account/api/me', { token: (await login(DEMO_CITIZEN.mobile, DEMO_CITIZEN.password)).access_token });
    expect(r.body).toMatchObject({
      id: DEMO_CITIZEN.id, kind: 'person', name: DEMO_CITIZEN.name, maskedIdNumber: maskIdNumber(DEMO_CITIZEN.idNumber), maskedMobile: '138****8000',
      assuranceLevel: 3, acr: 'urn:yiwang:loa:3', proofing: 'online-verified', registeredPlatform: 'yiwang', registeredTier: 'municipal',
      factors: [expect.objectContaining({ type: 'mobile', verified: true }), expect.objectContaining({ type: 'socialSecurityCard', verified: true })],
    });
    expect(JSON.stringify(r.body)).not.toContain(DEMO_CITIZEN.idNumber);
    expect((await callApi(idp.issuer, 'GET', '/account/api/me')).status).toBe(401);
  });
});

describe('account.mobile', () => {
  test('old number confirmed, then the new one; login by the new number works, the old one no longer', async () => {
    const c = newCitizen();
    await registerPerson(idp.issuer, c);
    const token = (await login(c.idNumber, c.password)).access_token;
    const api = (path: string, body: unknown = {}) => callApi(idp.issuer, 'POST', `/account/api/mobile/${path}`, { token, body });
    const next = `137${c.mobile.slice(3)}`;
    // The new number first is refused.
    expect((await api('new/send', { mobile: next })).body.code).toBe('FORBIDDEN');
    await api('old/send');
    const oldCode = await idp.lastCode(c.mobile, 'otp.mobile-old');
    expect((await api('old/confirm', { code: oldCode === '000000' ? '111111' : '000000' })).body.code).toBe('OTP_INVALID');
    expect((await api('old/confirm', { code: oldCode })).status).toBe(200);
    expect((await api('new/send', { mobile: DEMO_CITIZEN.mobile })).body.code).toBe('ACCOUNT_EXISTS');
    expect((await api('new/send', { mobile: '12345' })).body.code).toBe('MOBILE_INVALID');
    expect((await api('new/send', { mobile: next })).status).toBe(200);
    const newCode = await idp.lastCode(next, 'otp.mobile-new');
    expect((await api('new/confirm', { mobile: next, code: oldCode === newCode ? '999999' : oldCode })).body.code).toBe('OTP_INVALID');
    expect((await api('new/confirm', { mobile: next, code: newCode })).status).toBe(200);
    const row = (await idp.db.query<{ mobile: string; factors: Array<Record<string, unknown>> }>('select mobile, factors from idp.accounts where id_number = $1', [c.idNumber])).rows[0]!;
    expect(row.mobile).toBe(next);
    expect(row.factors[0]).toMatchObject({ type: 'mobile', last4: next.slice(-4), verified: true, source: 'carrier' });
    await login(next, c.password);
    await expect(login(c.mobile, c.password)).rejects.toMatchObject({ code: 'LOGIN_FAILED' });
  });
});

describe('account.sessions', () => {
  test('two logins are two sessions; ending one ends its refresh token, the other keeps working; another person\'s cannot be ended', async () => {
    const c = newCitizen();
    await registerPerson(idp.issuer, c);
    const a = await login(c.idNumber, c.password);
    const b = await login(c.mobile, c.password);
    const list = await callApi(idp.issuer, 'GET', '/account/api/sessions', { token: b.access_token });
    expect(list.body.sessions).toHaveLength(2);
    expect(list.body.sessions[0]).toMatchObject({ acr: 'urn:yiwang:loa:3', amr: ['pwd'], loginAt: expect.any(String) });
    const other = await login(DEMO_CITIZEN.idNumber, DEMO_CITIZEN.password);
    const mine = (await callApi(idp.issuer, 'GET', '/account/api/sessions', { token: other.access_token })).body.sessions as Array<{ id: string }>;
    const victim = (list.body.sessions as Array<{ id: string }>)[0]!.id;
    expect((await callApi(idp.issuer, 'DELETE', `/account/api/sessions/${victim}`, { token: other.access_token })).body.code).toBe('NOT_FOUND');
    expect(mine.map((s) => s.id)).not.toContain(victim);

    // End session A (the first login).
    const ids = (list.body.sessions as Array<{ id: string }>).map((s) => s.id);
    const sessionOf = async (r: typeof a) => {
      const refreshed = await client.refreshTokenGrant(r.config, r.refresh_token!).then(() => 'ok', (e: { error?: string }) => e.error ?? 'error');
      return refreshed;
    };
    expect((await callApi(idp.issuer, 'DELETE', `/account/api/sessions/${ids[1]}`, { token: b.access_token })).status).toBe(204);
    expect((await callApi(idp.issuer, 'GET', '/account/api/sessions', { token: b.access_token })).body.sessions).toHaveLength(1);
    // Exactly one of the two logins lost its refresh token.
    const results = [await sessionOf(a), await sessionOf(b)].sort();
    expect(results).toEqual(['invalid_grant', 'ok']);
  });
});

describe('account.pages', () => {
  test('/account asks for a login (first-party client, no consent page), then shows profile and sessions; ending the session logs out', async () => {
    const jar = new CookieJar();
    const res = await browserFetch(jar, new URL('/account', idp.issuer));
    expect([res.status, res.headers.get('location')]).toEqual([302, '/account/login']);
    const flow = await BrowserFlow.start(idp.issuer, { jar, clientId: 'yiwang-account', redirectUri: `${idp.issuer}/account/callback`, scope: 'openid' });
    await flow.submit('/login', { login: DEMO_CITIZEN.mobile, password: DEMO_CITIZEN.password });
    expect(flow.callback?.pathname).toBe('/account/callback');
    const page = await (await browserFetch(jar, new URL('/account', idp.issuer))).text();
    expect(page).toContain(maskIdNumber(DEMO_CITIZEN.idNumber));
    expect(page).not.toContain(DEMO_CITIZEN.idNumber);
    expect(page).toContain('href="/account/delegations"');
    // The demo citizen has other sessions from earlier tests: end this browser's own.
    const own = /（当前）[\s\S]*?action="([^"]+\/end)"/.exec(page)![1]!;
    const end = parseForms(page).find((f) => f.action === own)!;
    expect((await browserFetch(new CookieJar(), new URL(end.action, idp.issuer), { form: end.fields })).status).toBe(302); // no session: to the login
    const forged = await browserFetch(jar, new URL(end.action, idp.issuer), { form: { ...end.fields, _csrf: 'forged' } });
    expect(forged.status).toBe(403);
    const ended = await browserFetch(jar, new URL(end.action, idp.issuer), { form: end.fields });
    expect(ended.headers.get('location')).toBe('/account/login');
    expect((await browserFetch(jar, new URL('/account', idp.issuer))).headers.get('location')).toBe('/account/login');
  });
});

describe('account.pages-mobile', () => {
  test('R-ID-7: the bound mobile changed step by step on the account page; the company form refuses a bad code', async () => {
    const c = newCitizen();
    await registerPerson(idp.issuer, c);
    const jar = new CookieJar();
    const flow = await BrowserFlow.start(idp.issuer, { jar, clientId: 'yiwang-account', redirectUri: `${idp.issuer}/account/callback`, scope: 'openid' });
    await flow.submit('/login', { login: c.idNumber, password: c.password });
    const account = new URL('/account', idp.issuer);
    let html = await (await browserFetch(jar, account)).text();
    const post = async (action: string, fields: Record<string, string>) => {
      const f = parseForms(html).find((x) => x.action === action)!;
      const res = await browserFetch(jar, new URL(action, idp.issuer), { form: { ...f.fields, ...fields } });
      html = await res.text();
      return res.status;
    };
    const next = `135${c.mobile.slice(3)}`;
    expect(await post('/account/mobile', {})).toBe(200);
    expect(html).toContain('for="old-code"');
    expect(await post('/account/mobile', { code: await idp.lastCode(c.mobile, 'otp.mobile-old') })).toBe(200);
    expect(await post('/account/mobile', { mobile: next })).toBe(200);
    expect(await post('/account/mobile', { code: '000000' === await idp.lastCode(next, 'otp.mobile-new') ? '111111' : '000000' })).toBe(400);
    expect(html).toContain('data-code="OTP_INVALID"');
    expect(await post('/account/mobile', { code: await idp.lastCode(next, 'otp.mobile-new') })).toBe(200);
    expect(html).toContain(`${next.slice(0, 3)}****${next.slice(-4)}`);
    expect(await post('/account/companies', { creditCode: '91330106MA2B00001X', name: '某公司', agreementVersion: '2026-01' })).toBe(400);
    expect(html).toContain('data-code="CREDIT_CODE_INVALID"');
  });
});
