/**
 * A partner site asking for a level of assurance (R-ID-5, OIDC Core §3.1.2.1 acr_values,
 * §5.5.1.1 the acr claim), with openid-client as the confidential partner and the IdP's real
 * pages: the user is stepped up with the missing factor (an SMS code after a password) and the ID
 * token carries the higher acr and both methods; the same level again in the same browser needs
 * no credentials, a higher one the step-up. A voluntary level (acr_values, a non-essential acr
 * claim) the account cannot reach is no failure: the code comes with the level reached, and a
 * reachable one may be declined. An essential level (essential acr claim, the client's access
 * policy minimum) the account can never reach sends it back with
 * `unmet_authentication_requirements` and no code. A malformed acr claim request is
 * `invalid_request` before any login. `max_age`, `prompt=login` and `prompt=none` are honoured.
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
let admin: string;
let partner: client.Configuration;

/** A confidential partner client registered through the admin API. */
async function registerPartner(name: string): Promise<{ clientId: string; config: client.Configuration }> {
  const r = await adminCall(idp.issuer, admin, 'POST', '/admin/clients', { client_name: name, redirect_uris: [CB], scope: 'openid profile' });
  expect(r.status).toBe(201);
  return { clientId: r.body.client_id, config: await discoverConfidentialClient(idp.issuer, r.body.client_id, r.body.client_secret) };
}

beforeAll(async () => {
  idp = await startTestIdp({ env: { IDP_OTP_RESEND_SECONDS: '0' } });
  admin = await adminToken(idp.issuer, 'yw-admin', DEMO_ADMIN_PASSWORD);
  partner = (await registerPartner('加强认证合作网站 / Step-up partner')).config;
});
afterAll(async () => { await idp?.close(); });

/** A person registered online (L3); with `counter`, proven in person (L5, as counter registration makes it). */
async function person(counter = false) {
  const c = newCitizen();
  const { id } = await registerPerson(idp.issuer, c);
  if (counter) await idp.db.query(`update idp.accounts set assurance_level = 5, proofing = 'counter' where id = $1`, [id]);
  return { ...c, id };
}

/** The partner (or another relying party `config`) starts an authorization request in the browser `jar`. */
const atPartner = (jar: CookieJar, params: Record<string, string> = {}, config = partner) =>
  BrowserFlow.start(idp.issuer, { config, redirectUri: CB, scope: 'openid profile', jar, params });

const idToken = (r: { id_token?: string | undefined }) => decodeJwt(r.id_token!);
const essentialAcr = (acr: Record<string, unknown>) => JSON.stringify({ id_token: { acr: { essential: true, ...acr } } });
const acrClaim = (acr: unknown) => JSON.stringify({ id_token: { acr } });
const errorOf = (flow: BrowserFlow) => flow.callback?.searchParams.get('error');

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

  test('an essential level the account cannot reach: unmet_authentication_requirements and no code, logged in or not', async () => {
    const p = await person();
    const jar = new CookieJar();
    const fresh = await atPartner(jar, { claims: essentialAcr({ values: [L4, L5] }) });
    await fresh.submit('/login', { login: p.mobile, password: p.password });
    expect(errorOf(fresh)).toBe('unmet_authentication_requirements');
    expect(fresh.callback?.searchParams.get('error_description')).toContain(`${L4} was requested as essential`);
    expect(fresh.callback?.searchParams.get('code')).toBeNull();
    expect(fresh.callback?.searchParams.get('state')).toBe(fresh.state);

    // Logged in at L3 already (SSO), then the essential claim for L4: back at once, no page, no code.
    const ok = await atPartner(jar);
    await ok.submit('/login', { login: p.mobile, password: p.password });
    expect(idToken(await ok.tokens())).toMatchObject({ acr: L3 });
    const sso = await atPartner(jar, { claims: essentialAcr({ value: L4 }) });
    expect(errorOf(sso)).toBe('unmet_authentication_requirements');
    expect(sso.callback?.searchParams.get('code')).toBeNull();
    // acr_values alongside do not soften the essential claim.
    const both = await atPartner(jar, { acr_values: L3, claims: essentialAcr({ value: L4 }) });
    expect(errorOf(both)).toBe('unmet_authentication_requirements');

    // The claims parameter is for acr only here: anything else is invalid_request (no claims past the consent page).
    const other = await atPartner(new CookieJar(), { claims: JSON.stringify({ id_token: { phone_number: { essential: true } } }) });
    expect(errorOf(other)).toBe('invalid_request');
  });

  test('voluntary levels (acr_values, a non-essential acr claim) the account cannot reach: a code with the level reached, no page in a logged-in browser', async () => {
    const p = await person();
    const jar = new CookieJar();
    // max_age only to have auth_time in every ID token (the login time, unchanged by SSO).
    const fresh = await atPartner(jar, { acr_values: L4, max_age: '3600' });
    await fresh.submit('/login', { login: p.mobile, password: p.password });
    const first = idToken(await fresh.tokens());
    expect(first).toMatchObject({ acr: L3, amr: ['pwd'] });

    // Logged in: the same wish again, as acr_values or as a non-essential claim, is answered at once.
    for (const params of [{ acr_values: L5 }, { claims: acrClaim({ values: [L4, L5] }) }, { claims: acrClaim({ essential: false, value: L5 }) }] as Array<Record<string, string>>) {
      const sso = await atPartner(jar, { ...params, max_age: '3600' });
      expect(sso.callback?.searchParams.get('code')).toBeTruthy();
      expect(idToken(await sso.tokens())).toMatchObject({ sub: first.sub, acr: L3, amr: ['pwd'], auth_time: first.auth_time });
    }
    // prompt=none as well: nothing to ask the user for.
    const none = await atPartner(jar, { acr_values: L5, prompt: 'none' });
    expect(idToken(await none.tokens())).toMatchObject({ acr: L3 });
    // A voluntary value that is not one of our levels is ignored.
    const foreign = await atPartner(new CookieJar(), { acr_values: 'urn:example:gold', claims: acrClaim({ values: ['urn:example:silver'] }) });
    await foreign.submit('/login', { login: p.idNumber, password: p.password });
    expect(idToken(await foreign.tokens())).toMatchObject({ acr: L3 });
  });

  test('a voluntary step-up may be declined: the code says the level reached; an essential one may not', async () => {
    const p = await person(true);
    const jar = new CookieJar();
    const fresh = await atPartner(jar, { acr_values: L5, max_age: '3600' });
    await fresh.submit('/login', { login: p.idNumber, password: p.password });
    expect(fresh.html).toContain('stepup-code');
    expect(fresh.html).toContain('/stepup/skip');
    await fresh.submit('/stepup/skip');
    const first = idToken(await fresh.tokens());
    expect(first).toMatchObject({ acr: L3, amr: ['pwd'] });

    // In the logged-in browser the step-up is offered again; declining keeps the session as it was (auth_time too).
    const sso = await atPartner(jar, { claims: acrClaim({ value: L5 }), max_age: '3600' });
    expect(sso.html).toContain('stepup-code');
    await sso.submit('/stepup/skip');
    expect(idToken(await sso.tokens())).toMatchObject({ sub: first.sub, acr: L3, amr: ['pwd'], auth_time: first.auth_time });

    // Essential: no such button, and posting it anyway is FORBIDDEN; no code, and the step-up still works.
    const strict = await atPartner(jar, { claims: essentialAcr({ value: L5 }) });
    expect(strict.html).toContain('stepup-code');
    expect(strict.html).not.toContain('/stepup/skip');
    await strict.submitTo('/stepup/skip');
    expect([strict.status, strict.errorCode, strict.callback]).toEqual([403, 'FORBIDDEN', undefined]);
    const retry = await atPartner(jar, { claims: essentialAcr({ value: L5 }) });
    await stepUpBySms(retry, p.mobile);
    expect(idToken(await retry.tokens())).toMatchObject({ sub: first.sub, acr: L5, amr: ['pwd', 'sms'] });
  });

  test('a malformed acr claim request is invalid_request before any login, logged in or not', async () => {
    const p = await person();
    const jar = new CookieJar();
    const ok = await atPartner(jar);
    await ok.submit('/login', { login: p.mobile, password: p.password });
    expect(idToken(await ok.tokens())).toMatchObject({ acr: L3 });
    const malformed: Array<[unknown, string]> = [
      [{ essential: true, values: L4 }, 'values must be a non-empty array of strings'],
      [{ essential: true, values: [] }, 'values must be a non-empty array of strings'],
      [{ values: [L4, 5] }, 'values must be a non-empty array of strings'],
      [{ essential: true, value: 4 }, 'value must be a string'],
      [{ essential: true, value: [L4] }, 'value must be a string'],
      [{ essentail: true, value: L4 }, 'may only have the members essential, value and values'],
      [{ essential: 'true', value: L4 }, 'essential must be true or false'],
      [{ essential: true, value: L4, values: [L5] }, 'value or values, not both'],
      [{ essential: true, value: 'urn:example:gold' }, 'may only name the levels in acr_values_supported'],
      [{ essential: true, values: [L4, 'urn:yiwang:loa:9'] }, 'may only name the levels in acr_values_supported'],
      ['urn:yiwang:loa:4', 'must be null or an object'],
    ];
    for (const [acr, why] of malformed) {
      for (const browser of [new CookieJar(), jar]) {
        const flow = await atPartner(browser, { claims: acrClaim(acr) });
        // Straight back to the partner: no login page, no code.
        expect([errorOf(flow), flow.callback?.searchParams.get('code')]).toEqual(['invalid_request', null]);
        expect(flow.callback?.searchParams.get('error_description')).toContain(why);
        expect(flow.callback?.searchParams.get('state')).toBe(flow.state);
      }
    }
    // The same browser still logs in normally afterwards.
    const after = await atPartner(jar, { claims: acrClaim(null) });
    expect(idToken(await after.tokens())).toMatchObject({ acr: L3 });
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

describe('partners.stepup.policy', () => {
  let strict: { clientId: string; config: client.Configuration };
  beforeAll(async () => {
    strict = await registerPartner('最低等级合作网站 / Minimum-level partner');
    expect((await adminCall(idp.issuer, admin, 'PUT', `/admin/clients/${strict.clientId}/policy`, { minAcr: L5 })).status).toBe(200);
  });

  test('a client policy minimum level steps up an account that can reach it, fresh or logged in, and cannot be declined', async () => {
    const p = await person(true);
    const fresh = await atPartner(new CookieJar(), {}, strict.config);
    await fresh.submit('/login', { login: p.idNumber, password: p.password });
    expect(fresh.callback).toBeUndefined();
    expect(fresh.html).not.toContain('/stepup/skip');
    await stepUpBySms(fresh, p.mobile);
    expect(idToken(await fresh.tokens())).toMatchObject({ acr: L5, amr: ['pwd', 'sms'] });

    // Logged in at L3 at another partner: the strict one asks only for the missing factor.
    const jar = new CookieJar();
    const elsewhere = await atPartner(jar);
    await elsewhere.submit('/login', { login: p.mobile, password: p.password });
    expect(idToken(await elsewhere.tokens())).toMatchObject({ acr: L3 });
    const none = await atPartner(jar, { prompt: 'none' }, strict.config);
    expect(errorOf(none)).toBe('login_required');
    // A voluntary lower level does not soften the policy.
    const sso = await atPartner(jar, { acr_values: L3 }, strict.config);
    expect(sso.html).not.toContain('name="password"');
    await stepUpBySms(sso, p.mobile);
    expect(idToken(await sso.tokens())).toMatchObject({ acr: L5, amr: ['pwd', 'sms'] });
  });

  test('an account that cannot reach the policy minimum: unmet_authentication_requirements naming the policy, fresh or logged in', async () => {
    const p = await person();
    const jar = new CookieJar();
    const fresh = await atPartner(jar, { acr_values: L3 }, strict.config);
    await fresh.submit('/login', { login: p.mobile, password: p.password });
    expect([errorOf(fresh), fresh.callback?.searchParams.get('code')]).toEqual(['unmet_authentication_requirements', null]);
    expect(fresh.callback?.searchParams.get('error_description')).toContain(`access policy requires ${L5}`);

    const elsewhere = await atPartner(jar);
    await elsewhere.submit('/login', { login: p.mobile, password: p.password });
    expect(idToken(await elsewhere.tokens())).toMatchObject({ acr: L3 });
    const sso = await atPartner(jar, {}, strict.config);
    expect([errorOf(sso), sso.callback?.searchParams.get('code')]).toEqual(['unmet_authentication_requirements', null]);

    // Lowered at run time: the same browser gets a code at once.
    expect((await adminCall(idp.issuer, admin, 'PUT', `/admin/clients/${strict.clientId}/policy`, { minAcr: L3 })).status).toBe(200);
    try {
      const now = await atPartner(jar, {}, strict.config);
      expect(idToken(await now.tokens())).toMatchObject({ acr: L3 });
    } finally {
      await adminCall(idp.issuer, admin, 'PUT', `/admin/clients/${strict.clientId}/policy`, { minAcr: L5 });
    }
  });
});
