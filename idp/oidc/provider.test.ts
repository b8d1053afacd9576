/**
 * The IdP as a relying party sees it (openid-client v6) and as a browser sees it: discovery,
 * code flow + PKCE through our pages for each kind of login name, the gateway access token,
 * refresh, UserInfo, and the refusals (wrong password, disabled account, no PKCE, plain PKCE,
 * unknown resource, missing CSRF token).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { DEMO_CITIZEN, DEMO_STAFF } from '../../kernel/demo.ts';
import {
  CookieJar, LoginPageError, authorizeInBrowser, browserFetch, discoverClient, fetchUserInfoFor, loginWithPkce, pageErrorCode,
  parseForms, registerPerson, startTestIdp, type TestIdp,
} from '../../test/support/oidc.ts';

const REDIRECT = 'http://127.0.0.1:3000/callback';
const GATEWAY = 'http://127.0.0.1:4000/graphql';
const PERSON = { name: '李四', idNumber: '11010519491231002X', mobile: '13912345678', password: 'Person#2026x' };

let idp: TestIdp;
let personId: string;

beforeAll(async () => {
  idp = await startTestIdp({ env: { GATEWAY_RESOURCE: GATEWAY, IDP_PORTAL_REDIRECT_URIS: REDIRECT } });
  personId = (await registerPerson(idp.issuer, { ...PERSON, factorType: 'bankCard', factorValue: '6222020200112233' })).id;
});
afterAll(async () => { await idp?.close(); });

const login = (l: string, password: string, extra: { resource?: string; scope?: string } = {}) =>
  loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, resource: GATEWAY, login: l, password, ...extra });

/** Start an authorization request in a fresh browser; returns the jar and the login page. */
async function openLoginPage(): Promise<{ jar: CookieJar; url: URL; html: string }> {
  const config = await discoverClient(idp.issuer);
  const verifier = client.randomPKCECodeVerifier();
  const start = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid profile', code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256', state: client.randomState(), resource: GATEWAY,
  });
  const jar = new CookieJar();
  const first = await browserFetch(jar, start);
  expect(first.status).toBe(303);
  const url = new URL(first.headers.get('location')!, start);
  const page = await browserFetch(jar, url);
  expect(page.status).toBe(200);
  return { jar, url, html: await page.text() };
}

function authUrl(extra: string): URL {
  return new URL(`/auth?client_id=yiwang-portal&response_type=code&scope=openid&state=s1&redirect_uri=${encodeURIComponent(REDIRECT)}${extra}`, idp.issuer);
}

describe('idp.discovery', () => {
  test('advertises code + PKCE S256 only, the LoA values, and our own interaction pages', async () => {
    const d = await (await fetch(new URL('/.well-known/openid-configuration', idp.issuer))).json() as Record<string, unknown>;
    expect(d.issuer).toBe(idp.issuer);
    expect(d.code_challenge_methods_supported).toEqual(['S256']);
    expect(d.response_types_supported).toEqual(['code']);
    expect(d.acr_values_supported).toEqual(['urn:yiwang:loa:2', 'urn:yiwang:loa:3', 'urn:yiwang:loa:4', 'urn:yiwang:loa:5']);
    expect(d.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'phone', 'offline_access']));
    expect(d.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));
    expect(d.grant_types_supported).not.toContain('implicit');

    const { html } = await openLoginPage();
    // Ours (labelled inputs + CSRF token), not oidc-provider's devInteractions page.
    expect(html).toContain('name="_csrf"');
    expect(html).toContain('<label for="login">');
    expect(html).not.toMatch(/Sign-in/);
  });

  test('oidc-provider\'s own pages (errors, logout) use our layout, with no external assets', async () => {
    const bad = await fetch(new URL('/auth?client_id=unknown-client&response_type=code&scope=openid', idp.issuer), { redirect: 'manual' });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('<html lang="zh-CN">');
    expect(badHtml).toContain('lang=en');
    // The logout confirmation needs a session: log in first in this browser.
    const jar = new CookieJar();
    const config = await discoverClient(idp.issuer);
    const start = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256', state: 's',
    });
    await authorizeInBrowser(jar, start, { redirectUri: REDIRECT, login: DEMO_CITIZEN.mobile, password: DEMO_CITIZEN.password });
    const logout = await browserFetch(jar, new URL('/session/end?lang=en', idp.issuer));
    const logoutHtml = await logout.text();
    expect(logout.status).toBe(200);
    expect(logoutHtml).toContain('<html lang="en">');
    expect(logoutHtml).toContain('name="logout"');
    for (const html of [badHtml, logoutHtml]) {
      expect(html).not.toMatch(/@import|<link|<script|src="http/);
    }
  });

  test('/healthz checks the database and the cache', async () => {
    const res = await fetch(new URL('/healthz', idp.issuer));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ service: 'idp', status: 'ok', checks: { database: 'ok', cache: 'ok' } });
  });
});

describe('idp.login', () => {
  test('ID number + password: a JWT for the gateway, verifiable with the published JWKS', async () => {
    const r = await login(DEMO_CITIZEN.idNumber, DEMO_CITIZEN.password);
    const jwks = createRemoteJWKSet(new URL('/jwks', idp.issuer));
    const { payload, protectedHeader } = await jwtVerify(r.access_token, jwks, { issuer: idp.issuer, audience: GATEWAY, typ: 'at+jwt' });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({
      sub: DEMO_CITIZEN.id, client_id: 'yiwang-portal', acr: 'urn:yiwang:loa:3', yw_kind: 'person', yw_name: DEMO_CITIZEN.name,
    });
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(payload.yw_agency).toBeUndefined();
    expect(payload.yw_roles).toBeUndefined();
    expect(r.refresh_token).toBeTruthy();
    expect(r.claims()).toMatchObject({ sub: DEMO_CITIZEN.id, acr: 'urn:yiwang:loa:3', amr: ['pwd'], iss: idp.issuer, aud: 'yiwang-portal' });
  });

  test('mobile + password logs in the self-registered person (a lower-case x in the ID number works too)', async () => {
    const r = await login(PERSON.mobile, PERSON.password);
    expect(decodeJwt(r.access_token)).toMatchObject({ sub: personId, yw_kind: 'person', yw_name: PERSON.name, acr: 'urn:yiwang:loa:3', aud: GATEWAY });
    const byId = await login(DEMO_CITIZEN.idNumber.toLowerCase(), DEMO_CITIZEN.password);
    expect(decodeJwt(byId.access_token).sub).toBe(DEMO_CITIZEN.id);
  });

  test('staff username + password: agency, roles and LoA 3 in the token', async () => {
    const decider = DEMO_STAFF.find((s) => s.roles.includes('decider'))!;
    const r = await login(decider.username, decider.password);
    expect(decodeJwt(r.access_token)).toMatchObject({
      sub: decider.id, yw_kind: 'staff', yw_name: decider.name, yw_agency: decider.agencyCode, yw_roles: ['decider'], acr: 'urn:yiwang:loa:3',
    });
    expect(r.claims()?.acr).toBe('urn:yiwang:loa:3');
  });

  test('without a resource parameter the token is still for the gateway (default resource)', async () => {
    const r = await loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, login: DEMO_CITIZEN.mobile, password: DEMO_CITIZEN.password });
    expect(decodeJwt(r.access_token).aud).toBe(GATEWAY);
  });

  test('wrong password and unknown login name are the same LOGIN_FAILED; no code is issued', async () => {
    const wrongPassword = await login(DEMO_CITIZEN.idNumber, 'Wrong#password1').catch((e: unknown) => e);
    const unknownName = await login('no-such-user', 'Wrong#password1').catch((e: unknown) => e);
    for (const e of [wrongPassword, unknownName]) {
      expect(e).toBeInstanceOf(LoginPageError);
      expect((e as LoginPageError).code).toBe('LOGIN_FAILED');
      expect((e as LoginPageError).status).toBe(401);
    }
    const message = (e: unknown) => /<strong>([^<]*)<\/strong>/.exec((e as LoginPageError).html)?.[1];
    expect(message(wrongPassword)).toBe(message(unknownName));
    // The refused page offers the login form again (no redirect to the client, so no code).
    expect(parseForms((wrongPassword as LoginPageError).html).some((f) => f.action.endsWith('/login'))).toBe(true);
  });

  test('a disabled account is ACCOUNT_DISABLED (only with the right password)', async () => {
    const u = { name: '王五', idNumber: '440301199001011234', mobile: '13700001111', password: 'Disabled#2026' };
    const { id } = await registerPerson(idp.issuer, u);
    await idp.db.query('update idp.accounts set disabled = true where id = $1', [id]);
    await expect(login(u.mobile, u.password)).rejects.toMatchObject({ code: 'ACCOUNT_DISABLED', status: 403 });
    await expect(login(u.mobile, 'Wrong#password1')).rejects.toMatchObject({ code: 'LOGIN_FAILED' });
  });

  test('denying consent sends access_denied back to the client', async () => {
    const config = await discoverClient(idp.issuer);
    const start = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256', state: 's',
    });
    const cb = await authorizeInBrowser(new CookieJar(), start, { redirectUri: REDIRECT, login: DEMO_CITIZEN.mobile, password: DEMO_CITIZEN.password, consent: 'deny' });
    expect(cb.searchParams.get('error')).toBe('access_denied');
    expect(cb.searchParams.get('code')).toBeNull();
  });

  test('pages are zh-CN by default and switch to English with ?lang=en (remembered in a cookie)', async () => {
    const { jar, url, html } = await openLoginPage();
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('身份证号码、手机号码或用户名');
    expect(html).toContain(`href="${url.pathname}?lang=en"`);
    const en = await browserFetch(jar, new URL(`${url.pathname}?lang=en`, url));
    const enHtml = await en.text();
    expect(enHtml).toContain('<html lang="en">');
    expect(enHtml).toContain('ID number, mobile number or username');
    const again = await (await browserFetch(jar, url)).text();
    expect(again).toContain('<html lang="en">');
  });
});

describe('idp.tokens', () => {
  test('refresh rotates the refresh token and yields a new gateway JWT; a reused refresh token revokes the grant', async () => {
    const r = await login(DEMO_CITIZEN.idNumber, DEMO_CITIZEN.password);
    const first = await client.refreshTokenGrant(r.config, r.refresh_token!);
    expect(decodeJwt(first.access_token)).toMatchObject({ aud: GATEWAY, sub: DEMO_CITIZEN.id, yw_kind: 'person', acr: 'urn:yiwang:loa:3' });
    expect(first.refresh_token).toBeTruthy();
    expect(first.refresh_token).not.toBe(r.refresh_token);
    // Replay of the used token: refused, and the rotated one dies with the grant (RFC 9700 §4.14.2).
    await expect(client.refreshTokenGrant(r.config, r.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(client.refreshTokenGrant(r.config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('UserInfo answers with a token for it (refresh with an explicit scope), not with the gateway token', async () => {
    const r = await login(PERSON.idNumber, PERSON.password);
    await expect(client.fetchUserInfo(r.config, r.access_token, personId)).rejects.toBeTruthy();
    const { userinfo, refreshed } = await fetchUserInfoFor(r);
    expect(userinfo).toEqual({ sub: personId, name: PERSON.name, phone_number: PERSON.mobile, phone_number_verified: true });
    expect(refreshed.refresh_token).toBeTruthy();
    // The rotated refresh token still yields gateway tokens.
    const again = await client.refreshTokenGrant(r.config, refreshed.refresh_token!);
    expect(decodeJwt(again.access_token).aud).toBe(GATEWAY);
  });

  test('scope openid only: UserInfo carries just the subject', async () => {
    const r = await login(PERSON.mobile, PERSON.password, { scope: 'openid' });
    const { userinfo } = await fetchUserInfoFor(r, 'openid');
    expect(userinfo).toEqual({ sub: personId });
  });
});

describe('idp.pkce', () => {
  test('an authorization request without code_challenge is refused', async () => {
    const res = await fetch(authUrl(''), { redirect: 'manual' });
    const to = new URL(res.headers.get('location')!);
    expect(to.origin + to.pathname).toBe(REDIRECT);
    expect(to.searchParams.get('error')).toBe('invalid_request');
    expect(to.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  test('code_challenge_method=plain is refused', async () => {
    const res = await fetch(authUrl(`&code_challenge=${'a'.repeat(43)}&code_challenge_method=plain`), { redirect: 'manual' });
    const to = new URL(res.headers.get('location')!);
    expect(to.searchParams.get('error')).toBe('invalid_request');
    expect(to.searchParams.get('error_description')).toMatch(/code_challenge_method/);
  });

  test('the code is not redeemable with another verifier', async () => {
    const config = await discoverClient(idp.issuer);
    const verifier = client.randomPKCECodeVerifier();
    const start = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's',
    });
    const cb = await authorizeInBrowser(new CookieJar(), start, { redirectUri: REDIRECT, login: DEMO_CITIZEN.mobile, password: DEMO_CITIZEN.password });
    await expect(client.authorizationCodeGrant(config, cb, { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: 's' }))
      .rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('an unknown resource indicator is invalid_target', async () => {
    await expect(login(DEMO_CITIZEN.mobile, DEMO_CITIZEN.password, { resource: 'https://elsewhere.example/api' }))
      .rejects.toMatchObject({ error: 'invalid_target' });
  });
});

describe('idp.csrf', () => {
  test('login and consent forms without a valid token get 403 and log nobody in', async () => {
    const { jar, url, html } = await openLoginPage();
    const form = parseForms(html).find((f) => f.action.endsWith('/login'))!;
    const target = new URL(form.action, url);
    for (const token of [undefined, '', 'forged-token', form.fields._csrf!.slice(1)]) {
      const fields: Record<string, string> = { login: DEMO_CITIZEN.idNumber, password: DEMO_CITIZEN.password };
      if (token !== undefined) fields._csrf = token;
      const res = await browserFetch(jar, target, { form: fields });
      expect(res.status).toBe(403);
      expect(pageErrorCode(await res.text())).toBe('FORBIDDEN');
    }
    // With the token: logged in, on to consent; a consent post without the token is refused too.
    const ok = await browserFetch(jar, target, { form: { ...form.fields, login: DEMO_CITIZEN.idNumber, password: DEMO_CITIZEN.password } });
    expect(ok.status).toBe(303);
    let next = new URL(ok.headers.get('location')!, target);
    let res = await browserFetch(jar, next);
    while (res.status === 303) {
      next = new URL(res.headers.get('location')!, next);
      res = await browserFetch(jar, next);
    }
    const consent = parseForms(await res.text()).find((f) => f.action.endsWith('/confirm'))!;
    expect(consent).toBeDefined();
    const refused = await browserFetch(jar, new URL(consent.action, next), { form: { decision: 'approve' } });
    expect(refused.status).toBe(403);
    // A token minted for another interaction does not work here either.
    const other = await openLoginPage();
    const otherToken = parseForms(other.html)[0]!.fields._csrf!;
    const cross = await browserFetch(jar, new URL(consent.action, next), { form: { _csrf: otherToken, decision: 'approve' } });
    expect(cross.status).toBe(403);
  });
});
