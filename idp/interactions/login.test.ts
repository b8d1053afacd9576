/**
 * Login methods (R-ID-5) through the IdP's pages with openid-client as the relying party:
 * mobile + SMS code, QR code approved on the app, the levels of assurance they give (acr / amr
 * in the ID token), step-up when a client demands a higher level, and brute-force lockout.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { decodeJwt } from 'jose';
import { OffsetClock } from '../../kernel/clock.ts';
import { DEMO_CITIZEN } from '../../kernel/demo.ts';
import { newCitizen } from '../../test/journey.ts';
import { BrowserFlow, CookieJar, browserFetch, callApi, loginWithPkce, pageErrorCode, parseForms, registerPerson, startTestIdp, type TestIdp } from '../../test/support/oidc.ts';

const clock = new OffsetClock();
let idp: TestIdp;
beforeAll(async () => {
  idp = await startTestIdp({ clock, env: { IDP_LOGIN_MAX_FAILURES: '3', IDP_LOGIN_LOCK_SECONDS: '60', IDP_LOGIN_IP_MAX_FAILURES: '12', IDP_OTP_RESEND_SECONDS: '0' } });
});
afterAll(async () => { await idp?.close(); });

async function person(level?: 5) {
  const c = newCitizen();
  const { id } = await registerPerson(idp.issuer, c);
  if (level) await idp.db.query(`update idp.accounts set assurance_level = 5, proofing = 'counter' where id = $1`, [id]);
  return { ...c, id };
}
const idClaims = (r: { id_token?: string | undefined }) => decodeJwt(r.id_token!);

describe('login.sms', () => {
  test('bound mobile + SMS code: acr L3, amr ["sms"]', async () => {
    const p = await person();
    const flow = await BrowserFlow.start(idp.issuer);
    await flow.submit('/sms/send', { mobile: p.mobile });
    expect(flow.status).toBe(200);
    expect(flow.html).toContain('sms-code');
    await flow.submit('/sms/verify', { code: await idp.lastCode(p.mobile, 'otp.login') });
    const r = await flow.tokens();
    expect(idClaims(r)).toMatchObject({ sub: p.id, acr: 'urn:yiwang:loa:3', amr: ['sms'] });
  });

  test('a wrong code is OTP_INVALID on the page and logs nobody in; an unbound number gets the same page and no SMS', async () => {
    const p = await person();
    const flow = await BrowserFlow.start(idp.issuer);
    await flow.submit('/sms/send', { mobile: p.mobile });
    const right = await idp.lastCode(p.mobile, 'otp.login');
    await flow.submit('/sms/verify', { code: right === '123456' ? '654321' : '123456' });
    expect([flow.status, flow.errorCode, flow.callback]).toEqual([400, 'OTP_INVALID', undefined]);

    const before = (await idp.notices()).length;
    const other = await BrowserFlow.start(idp.issuer);
    await other.submit('/sms/send', { mobile: '13900000001' });
    expect(other.status).toBe(200);
    expect(other.html).toContain('sms-code');
    expect((await idp.notices()).length).toBe(before);
  });
});

describe('login.assurance', () => {
  test('discovery lists L2–L5 and ID tokens carry acr and amr', async () => {
    const d = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    expect(d.acr_values_supported).toEqual(['urn:yiwang:loa:2', 'urn:yiwang:loa:3', 'urn:yiwang:loa:4', 'urn:yiwang:loa:5']);
    expect(d.claims_supported).toEqual(expect.arrayContaining(['acr', 'amr']));
  });

  test('an L5 account demanded at L5: password, then the SMS step-up, gives acr L5 with amr pwd + sms', async () => {
    const p = await person(5);
    const flow = await BrowserFlow.start(idp.issuer, { params: { acr_values: 'urn:yiwang:loa:5' } });
    await flow.submit('/login', { login: p.idNumber, password: p.password });
    expect(flow.callback).toBeUndefined();
    await flow.submit('/stepup/send');
    const code = await idp.lastCode(p.mobile, 'otp.stepup');
    await flow.submit('/stepup', { code: code === '000000' ? '111111' : '000000' });
    expect(flow.errorCode).toBe('OTP_INVALID');
    await flow.submit('/stepup', { code });
    const r = await flow.tokens();
    expect(idClaims(r)).toMatchObject({ sub: p.id, acr: 'urn:yiwang:loa:5', amr: ['pwd', 'sms'] });
    expect(decodeJwt(r.access_token)).toMatchObject({ acr: 'urn:yiwang:loa:5' });
  });

  test('SMS first, then the password as the second factor', async () => {
    const p = await person(5);
    const flow = await BrowserFlow.start(idp.issuer, { params: { acr_values: 'urn:yiwang:loa:4' } });
    await flow.submit('/sms/send', { mobile: p.mobile });
    await flow.submit('/sms/verify', { code: await idp.lastCode(p.mobile, 'otp.login') });
    expect(flow.html).toContain('stepup-password');
    await flow.submit('/stepup', { password: p.password });
    expect(idClaims(await flow.tokens())).toMatchObject({ acr: 'urn:yiwang:loa:5', amr: ['sms', 'pwd'] });
  });

  test('a level the account was not proven at: asked (acr_values) gives the level reached, demanded (essential acr claim) unmet_authentication_requirements', async () => {
    const p = await person();
    const asked = await BrowserFlow.start(idp.issuer, { params: { acr_values: 'urn:yiwang:loa:4' } });
    await asked.submit('/login', { login: p.mobile, password: p.password });
    expect(idClaims(await asked.tokens())).toMatchObject({ sub: p.id, acr: 'urn:yiwang:loa:3', amr: ['pwd'] });

    const demanded = await BrowserFlow.start(idp.issuer, { params: { claims: JSON.stringify({ id_token: { acr: { essential: true, value: 'urn:yiwang:loa:4' } } }) } });
    await demanded.submit('/login', { login: p.mobile, password: p.password });
    expect(demanded.callback?.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(demanded.callback?.searchParams.get('code')).toBeNull();
  });

  test('a session at L3 does not satisfy a later request for L5: the same browser is asked for the missing factor only', async () => {
    const p = await person(5);
    const first = await BrowserFlow.start(idp.issuer);
    await first.submit('/login', { login: p.idNumber, password: p.password });
    expect(idClaims(await first.tokens())).toMatchObject({ acr: 'urn:yiwang:loa:3' });
    // The same browser, no new login needed at L3 …
    const again = await BrowserFlow.start(idp.issuer, { jar: first.jar });
    expect(again.callback).toBeDefined();
    // … but at L5 the SMS step-up is asked for (no password again), or another account's login.
    const higher = await BrowserFlow.start(idp.issuer, { jar: first.jar, params: { acr_values: 'urn:yiwang:loa:5' } });
    expect(higher.callback).toBeUndefined();
    expect(higher.html).not.toContain('name="password"');
    const full = await (await higher.get(`${higher.url.pathname}?full=1`)).text();
    expect(full).toContain('name="password"');
    await higher.submit('/stepup/send');
    await higher.submit('/stepup', { code: await idp.lastCode(p.mobile, 'otp.stepup') });
    expect(idClaims(await higher.tokens())).toMatchObject({ sub: p.id, acr: 'urn:yiwang:loa:5', amr: ['pwd', 'sms'] });
  });
});

describe('login.qr', () => {
  test('the app approves the QR code; the page completes the login (device-authorization style)', async () => {
    const app = await loginWithPkce({ issuer: idp.issuer, redirectUri: 'http://127.0.0.1:3000/callback', login: DEMO_CITIZEN.mobile, password: DEMO_CITIZEN.password });
    const flow = await BrowserFlow.start(idp.issuer);
    const qrUrl = /data-qr-url="([^"]+)"/.exec(flow.html)![1]!;
    const code = new URL(qrUrl).pathname.split('/').pop()!;
    const uid = /\/interaction\/([^/"]+)\/qr\/complete/.exec(flow.html)![1]!;
    const poll = async () => (await (await flow.get(`/interaction/${uid}/qr`)).json()) as { status: string };
    expect(await poll()).toMatchObject({ status: 'pending' });

    await flow.submit('/qr/complete');
    expect(flow.errorCode).toBe('QR_NOT_APPROVED');

    expect((await callApi(idp.issuer, 'POST', `/qr/${code}/approve`)).status).toBe(401);
    expect((await callApi(idp.issuer, 'POST', `/qr/${code}/approve`, { token: app.access_token })).status).toBe(200);
    expect(await poll()).toMatchObject({ status: 'approved' });
    // Approved once: a second approval (or a replay) is refused.
    expect((await callApi(idp.issuer, 'POST', `/qr/${code}/approve`, { token: app.access_token })).body.code).toBe('QR_EXPIRED');

    await flow.submit('/qr/complete');
    const r = await flow.tokens();
    expect(idClaims(r)).toMatchObject({ sub: DEMO_CITIZEN.id, acr: 'urn:yiwang:loa:3', amr: ['qr'] });
  });

  test('an expired QR code cannot be approved and the page is told so', async () => {
    const app = await loginWithPkce({ issuer: idp.issuer, redirectUri: 'http://127.0.0.1:3000/callback', login: DEMO_CITIZEN.mobile, password: DEMO_CITIZEN.password });
    const flow = await BrowserFlow.start(idp.issuer);
    const code = new URL(/data-qr-url="([^"]+)"/.exec(flow.html)![1]!).pathname.split('/').pop()!;
    const uid = /\/interaction\/([^/"]+)\/qr\/complete/.exec(flow.html)![1]!;
    clock.offsetMs += 121_000;
    try {
      expect((await callApi(idp.issuer, 'POST', `/qr/${code}/approve`, { token: app.access_token })).body.code).toBe('QR_EXPIRED');
      expect(await (await flow.get(`/interaction/${uid}/qr`)).json()).toMatchObject({ status: 'expired' });
    } finally {
      clock.offsetMs -= 121_000;
    }
  });
});

describe('login.qr-browser-session', () => {
  test('the approval page needs the phone\'s login session and its CSRF token; a refusal leaves the code unusable', async () => {
    const flow = await BrowserFlow.start(idp.issuer);
    const qrUrl = /data-qr-url="([^"]+)"/.exec(flow.html)![1]!;
    const phone = new CookieJar();
    const first = await browserFetch(phone, new URL(qrUrl));
    expect(first.headers.get('location')).toBe(`/account/login?next=${encodeURIComponent(new URL(qrUrl).pathname)}`);
    const login = await BrowserFlow.start(idp.issuer, { jar: phone, clientId: 'yiwang-account', redirectUri: `${idp.issuer}/account/callback`, scope: 'openid' });
    await login.submit('/login', { login: DEMO_CITIZEN.mobile, password: DEMO_CITIZEN.password });
    const page = await (await browserFetch(phone, new URL(qrUrl))).text();
    const form = parseForms(page).find((f) => f.action.endsWith('/confirm'))!;
    expect((await browserFetch(phone, new URL(form.action, idp.issuer), { form: { ...form.fields, _csrf: 'forged', decision: 'approve' } })).status).toBe(403);
    expect((await browserFetch(new CookieJar(), new URL(form.action, idp.issuer), { form: { ...form.fields, decision: 'approve' } })).status).toBe(302);
    expect((await browserFetch(phone, new URL(form.action, idp.issuer), { form: { ...form.fields, decision: 'deny' } })).status).toBe(200);
    await flow.submit('/qr/complete');
    expect(flow.errorCode).toBe('QR_NOT_APPROVED');
    const again = await browserFetch(phone, new URL(form.action, idp.issuer), { form: { ...form.fields, decision: 'approve' } });
    expect(pageErrorCode(await again.text())).toBe('QR_EXPIRED');
  });
});

describe('login.protection', () => {
  test('3 wrong passwords lock the account (even the right password is LOGIN_LOCKED), with backoff', async () => {
    const p = await person();
    const attempt = async (password: string) => {
      const flow = await BrowserFlow.start(idp.issuer);
      await flow.submit('/login', { login: p.idNumber, password });
      return flow;
    };
    for (let i = 0; i < 3; i++) expect((await attempt('Wrong#pass1')).errorCode).toBe('LOGIN_FAILED');
    const locked = await attempt(p.password);
    expect([locked.status, locked.errorCode]).toEqual([429, 'LOGIN_LOCKED']);
    clock.offsetMs += 61_000;
    // One more failure after the lock doubles it (120 s).
    expect((await attempt('Wrong#pass1')).errorCode).toBe('LOGIN_FAILED');
    expect((await attempt(p.password)).html).toMatch(/1[12]\d 秒|1[12]\d seconds/);
    clock.offsetMs += 121_000;
    const ok = await attempt(p.password);
    expect(ok.callback ?? ok.html.includes('/confirm')).toBeTruthy();
  });

  test('failures from one address across many names lock that address', async () => {
    const p = await person();
    // Earlier tests in this file failed from this address too: stop once the address is locked.
    let locked = false;
    for (let i = 0; i < 12 && !locked; i++) {
      const flow = await BrowserFlow.start(idp.issuer);
      await flow.submit('/login', { login: `nobody-${i}`, password: 'Wrong#pass1' });
      locked = flow.errorCode === 'LOGIN_LOCKED';
    }
    expect(locked).toBe(true);
    const flow = await BrowserFlow.start(idp.issuer);
    await flow.submit('/login', { login: p.idNumber, password: p.password });
    expect(flow.errorCode).toBe('LOGIN_LOCKED');
  });
});
