/**
 * A partner site demanding a level of assurance (issue 3 bullet 4, OIDC Core §3.1.2.1 acr_values,
 * §5.5.1.1 the acr claim), with openid-client as the confidential partner and the IdP's real
 * pages: the user is stepped up with the missing factor (an SMS code after a password) and the ID
 * token carries the higher acr and both methods; the same level again in the same browser needs
 * no credentials, a higher one the step-up; an account that can never reach the level is sent
 * back with `unmet_authentication_requirements` and no code; `max_age`, `prompt=login` and
 * `prompt=none` are honoured.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { newCitizen } from '../../test/journey.ts';
import {
  BrowserFlow, CookieJar, adminCall, adminToken, discoverConfidentialClient, registerPerson, startTestIdp, type TestIdp,
} from '../../test/support/oidc.ts';
import { DEMO_ADMIN_PASSWORD } from '../admin/seed.ts';

const CB = 'https://stepup.partner.test/cb';
const L3 = 'urn:yiwang:loa:3';
const L4 = 'urn:yiwang:loa:4';
const L5 = 'urn:yiwang:loa:5';

let idp: TestIdp;
let partner: client.Configuration;

beforeAll(async () => {
  idp = await startTestIdp({ env: { IDP_OTP_RESEND_SECONDS: '0' } });
  const admin = await adminToken(idp.issuer, 'yw-admin', DEMO_ADMIN_PASSWORD);
  const r = await adminCall(idp.issuer, admin, 'POST', '/admin/clients', { client_name: '加强认证合作网站 / Step-up partner', redirect_uris: [CB], scope: 'openid profile' });
  expect(r.status).toBe(201);
  partner = await discoverConfidentialClient(idp.issuer, r.body.client_id, r.body.client_secret);
});
afterAll(async () => { await idp?.close(); });

/** A person registered online (L3); with `counter`, proven in person (L5, as counter registration makes it). */
async function person(counter = false) {
  const c = newCitizen();
  const { id } = await registerPerson(idp.issuer, c);
  if (counter) await idp.db.query(`update idp.accounts set assurance_level = 5, proofing = 'counter' where id = $1`, [id]);
  return { ...c, id };
}

/** The partner starts an authorization request in the browser `jar`. */
const atPartner = (jar: CookieJar, params: Record<string, string> = {}) =>
  BrowserFlow.start(idp.issuer, { config: partner, redirectUri: CB, scope: 'openid profile', jar, params });

const idToken = (r: { id_token?: string | undefined }) => decodeJwt(r.id_token!);
const essentialAcr = (acr: Record<string, unknown>) => JSON.stringify({ id_token: { acr: { essential: true, ...acr } } });

/** Enter the SMS code the step-up page sent to the bound mobile (read from the development sink). */
async function stepUpBySms(flow: BrowserFlow, mobile: string): Promise<void> {
  expect(flow.html).toContain('stepup-code');
  await flow.submit('/stepup/send');
  await flow.submit('/stepup', { code: await idp.lastCode(mobile, 'otp.stepup') });
}

/** Age the browser's login sessions of `accountId` by `seconds` (as if logged in that long ago). */
async function ageSessions(accountId: string, seconds: number): Promise<void> {
  for (const id of await idp.cache.sMembers(`acct:sessions:${accountId}`)) {
    const key = `oidc:Session:${id}`;
    const raw = await idp.cache.get(key);
    if (!raw) continue;
    const s = JSON.parse(raw) as { loginTs: number };
    s.loginTs -= seconds;
    await idp.cache.set(key, JSON.stringify(s), { ttlSeconds: Math.max(1, await idp.cache.ttl(key)) });
  }
}

describe('partners.stepup', () => {
  test('logged in at L3, the partner asks acr_values L5: only the SMS code is asked; the ID token says L5, pwd + sms', async () => {
    const p = await person(true);
    const jar = new CookieJar();
    const first = await atPartner(jar);
    await first.submit('/login', { login: p.idNumber, password: p.password });
    const low = await first.tokens();
    expect(idToken(low)).toMatchObject({ acr: L3, amr: ['pwd'] });

    const higher = await atPartner(jar, { acr_values: L5 });
    expect(higher.callback).toBeUndefined();
    // The missing factor only: no password field, the code goes to the bound mobile.
    expect(higher.html).not.toContain('name="password"');
    await higher.submit('/stepup/send');
    const code = await idp.lastCode(p.mobile, 'otp.stepup');
    await higher.submit('/stepup', { code: code === '000000' ? '111111' : '000000' });
    expect([higher.status, higher.errorCode, higher.callback]).toEqual([400, 'OTP_INVALID', undefined]);
    await higher.submit('/stepup', { code });
    const r = await higher.tokens();
    expect(idToken(r)).toMatchObject({ sub: idToken(low).sub, acr: L5, amr: ['pwd', 'sms'] });
    expect(idToken(r).sub).not.toBe(p.id);

    // The session is at L5 now: the same level again, or no level, needs no credentials (SSO).
    for (const params of [{ acr_values: L5 }, { acr_values: `${L4} ${L5}` }, {}] as Array<Record<string, string>>) {
      const again = await atPartner(jar, params);
      expect(again.callback?.searchParams.get('code')).toBeTruthy();
      expect(idToken(await again.tokens())).toMatchObject({ sub: idToken(low).sub, acr: L5, amr: ['pwd', 'sms'] });
    }
  });

  test('an essential acr claim (claims parameter) steps up a fresh login; discovery says the parameter is supported', async () => {
    const d = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    expect(d).toMatchObject({ claims_parameter_supported: true, acr_values_supported: [expect.any(String), L3, L4, L5] });
    const p = await person(true);
    const flow = await atPartner(new CookieJar(), { claims: essentialAcr({ values: [L4, L5] }) });
    await flow.submit('/login', { login: p.mobile, password: p.password });
    expect(flow.callback).toBeUndefined();
    await stepUpBySms(flow, p.mobile);
    expect(idToken(await flow.tokens())).toMatchObject({ acr: L5, amr: ['pwd', 'sms'] });

    // A single essential value below what the login reached is met by it (levels are ordered).
    const q = await person(true);
    const four = await atPartner(new CookieJar(), { claims: essentialAcr({ value: L4 }) });
    await four.submit('/login', { login: q.idNumber, password: q.password });
    await stepUpBySms(four, q.mobile);
    expect(idToken(await four.tokens())).toMatchObject({ acr: L5 });
  });

  test('an account that cannot reach the level goes back with unmet_authentication_requirements and no code, logged in or not', async () => {
    const p = await person();
    const jar = new CookieJar();
    const fresh = await atPartner(jar, { acr_values: L4 });
    await fresh.submit('/login', { login: p.mobile, password: p.password });
    expect(fresh.callback?.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(fresh.callback?.searchParams.get('code')).toBeNull();
    expect(fresh.callback?.searchParams.get('state')).toBe(fresh.state);

    // Logged in at L3 already (SSO), then asked for L4: back at once, no page, no code.
    const ok = await atPartner(jar);
    await ok.submit('/login', { login: p.mobile, password: p.password });
    expect(idToken(await ok.tokens())).toMatchObject({ acr: L3 });
    const sso = await atPartner(jar, { claims: essentialAcr({ value: L4 }) });
    expect(sso.callback?.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(sso.callback?.searchParams.get('code')).toBeNull();

    // An essential acr naming no level this IdP has can never be met.
    const unknown = await atPartner(new CookieJar(), { claims: essentialAcr({ value: 'urn:example:gold' }) });
    expect(unknown.callback?.searchParams.get('error')).toBe('unmet_authentication_requirements');
    // The claims parameter is for acr only here: anything else is invalid_request (no claims past the consent page).
    const other = await atPartner(new CookieJar(), { claims: JSON.stringify({ id_token: { phone_number: { essential: true } } }) });
    expect(other.callback?.searchParams.get('error')).toBe('invalid_request');
  });

  test('max_age: an older session logs in again, then steps up; auth_time is the new login', async () => {
    const p = await person(true);
    const jar = new CookieJar();
    const first = await atPartner(jar, { acr_values: L5 });
    await first.submit('/login', { login: p.idNumber, password: p.password });
    await stepUpBySms(first, p.mobile);
    expect(idToken(await first.tokens())).toMatchObject({ acr: L5 });

    // Within max_age: no page at all.
    const within = await atPartner(jar, { acr_values: L5, max_age: '600' });
    expect(within.callback?.searchParams.get('code')).toBeTruthy();
    const loggedInAt = idToken(await within.tokens()).auth_time as number;
    await ageSessions(p.id, 900);
    const aged = await atPartner(jar, { acr_values: L5, max_age: '600' });
    expect(aged.callback).toBeUndefined();
    // The full login page (not the step-up shortcut: the first factor is too old as well).
    expect(aged.html).toContain('name="password"');
    await aged.submit('/login', { login: p.idNumber, password: p.password });
    await stepUpBySms(aged, p.mobile);
    const after = idToken(await aged.tokens());
    expect(after).toMatchObject({ acr: L5, amr: ['pwd', 'sms'] });
    // The aged session said loginTs − 900 s; the new login is now.
    expect(after.auth_time).toBeGreaterThanOrEqual(loggedInAt);
  });

  test('prompt=login asks for credentials even in a session at the level; prompt=none below it is login_required', async () => {
    const p = await person(true);
    const jar = new CookieJar();
    const first = await atPartner(jar);
    await first.submit('/login', { login: p.mobile, password: p.password });
    expect(idToken(await first.tokens())).toMatchObject({ acr: L3 });

    const none = await atPartner(jar, { acr_values: L5, prompt: 'none' });
    expect(none.callback?.searchParams.get('error')).toBe('login_required');
    expect(none.callback?.searchParams.get('code')).toBeNull();

    const forced = await atPartner(jar, { prompt: 'login' });
    expect(forced.html).toContain('name="password"');
    await forced.submit('/login', { login: p.mobile, password: p.password });
    expect(idToken(await forced.tokens())).toMatchObject({ acr: L3, amr: ['pwd'] });

    const forcedHigher = await atPartner(jar, { prompt: 'login', acr_values: L5 });
    expect(forcedHigher.html).toContain('name="password"');
    await forcedHigher.submit('/login', { login: p.mobile, password: p.password });
    await stepUpBySms(forcedHigher, p.mobile);
    expect(idToken(await forcedHigher.tokens())).toMatchObject({ acr: L5, amr: ['pwd', 'sms'] });
  });
});
