/**
 * R-ID-12 hybrid mode (统分) at a city: people's login and registration are the province's, the
 * city's own agency staff still log in at the city (their accounts are the city's): the login page
 * offers the province first and a staff form; a person's account that exists at the city anyway
 * is sent to the province (LOGIN_AT_PROVINCE) instead of being logged in locally.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import * as client from 'openid-client';
import { systemClock } from '../../kernel/clock.ts';
import { newCitizen } from '../../test/journey.ts';
import { CookieJar, LoginPageError, browserFetch, discoverClient, loginWithPkce, parseForms, registerPerson } from '../../test/support/oidc.ts';
import { startFederation, type Federation } from '../../test/support/idp/federation.ts';
import { crossTierLogin } from '../../bin/journey/cross-tier.ts';
import { createAccountStore } from '../accounts/store.ts';

const APP = 'http://127.0.0.1:3000/callback';
let f: Federation;
let city: NonNullable<Federation['city']>;
beforeAll(async () => {
  f = await startFederation({ city: true });
  city = f.city!;
}, 120_000);
afterAll(async () => { await f?.close(); });

const cityAccounts = () => createAccountStore({ db: city.db, clock: systemClock, factorKey: createSecretKey(randomBytes(32)) });

/** The city's login page for a fresh authorization request of the portal client. */
async function cityLoginPage(jar: CookieJar): Promise<{ html: string; url: URL }> {
  const config = await discoverClient(city.issuer);
  let url = client.buildAuthorizationUrl(config, {
    redirect_uri: APP, scope: 'openid', state: client.randomState(),
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  });
  let res = await browserFetch(jar, url);
  while (res.status >= 300 && res.status < 400) {
    url = new URL(res.headers.get('location')!, url);
    await res.body?.cancel();
    res = await browserFetch(jar, url);
  }
  return { html: await res.text(), url };
}

describe('hybrid city login', () => {
  test('R-ID-12: the login page offers the province first and a staff form; no SMS, QR or home-platform choice of its own', async () => {
    const { html } = await cityLoginPage(new CookieJar());
    const actions = parseForms(html).map((x) => x.action.replace(/^\/interaction\/[^/]+/, ''));
    expect(actions).toEqual(['/superior', '/login', '/abort']);
    expect(html).toContain('浙江省政务服务网 / Zhejiang');
    expect(html).not.toMatch(/sms\/send|qr\/complete|\/home"/);
  });

  test('R-ID-12: a person registered at the province logs in at the city through the province\'s login (one click at the city)', async () => {
    const c = newCitizen();
    await registerPerson(f.home.issuer, c);
    const r = await crossTierLogin({ visiting: city.issuer, redirectUri: APP, login: c.idNumber, password: c.password });
    expect(r.pages).toMatchObject({ visitingLogin: 1, homeLogin: 1 });
    expect(r.claims()).toMatchObject({ amr: ['fed'], acr: 'urn:yiwang:loa:3' });
  });

  test('R-ID-12: the city\'s agency staff log in at the city with their own account', async () => {
    const username = `hy-staff-${randomUUID().slice(0, 8)}`;
    await cityAccounts().upsert({
      id: randomUUID(), kind: 'staff', name: '周办事', idNumber: null, mobile: null, username, agencyCode: '11330300MB0000003X', roles: ['acceptor'], password: 'Staff#2026hybrid',
    });
    const r = await loginWithPkce({ issuer: city.issuer, redirectUri: APP, login: username, password: 'Staff#2026hybrid' });
    expect(r.claims()).toMatchObject({ amr: ['pwd'] });
  });

  test('R-ID-12: a person account at the city itself is sent to the province (LOGIN_AT_PROVINCE), after its password, and nothing is logged in; a wrong password stays LOGIN_FAILED', async () => {
    const c = newCitizen();
    await cityAccounts().upsert({ id: randomUUID(), kind: 'person', name: c.name, idNumber: c.idNumber, mobile: c.mobile, username: null, agencyCode: null, roles: [], password: c.password });
    const refused = await loginWithPkce({ issuer: city.issuer, redirectUri: APP, login: c.idNumber, password: c.password }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LoginPageError);
    expect((refused as LoginPageError).code).toBe('LOGIN_AT_PROVINCE');
    // The page shows it with the province's way in still offered.
    expect((refused as LoginPageError).html).toContain('/superior');
    const wrong = await loginWithPkce({ issuer: city.issuer, redirectUri: APP, login: c.idNumber, password: 'Not#theRight1' }).catch((e: unknown) => e);
    expect((wrong as LoginPageError).code).toBe('LOGIN_FAILED');
  });

  test('a POST to /superior without the interaction\'s CSRF token is refused and goes nowhere', async () => {
    const jar = new CookieJar();
    const { url } = await cityLoginPage(jar);
    const res = await browserFetch(jar, new URL(`${url.pathname}/superior`, city.issuer), { form: {} });
    expect(res.status).toBe(403);
    expect(res.headers.get('location')).toBeNull();
  });
});
