/**
 * The IdP's pages in real headless Chromium (Debian's package, playwright-core): a person
 * registers through the form, switches language, and logs in through the authorization code +
 * PKCE flow by typing into the login page and approving consent, as a citizen would.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { artifactPath, launchBrowser, portalPage } from './support/browser.ts';
import { discoverClient, startTestIdp, type TestIdp } from './support/oidc.ts';
import { newCitizen } from './journey.ts';

const REDIRECT = 'http://127.0.0.1:3000/callback';
let idp: TestIdp;
let browser: Browser;

beforeAll(async () => {
  idp = await startTestIdp({ seed: true, env: { IDP_PORTAL_REDIRECT_URIS: REDIRECT } });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await idp?.close();
});

const newPage = (): Promise<Page> => portalPage(browser, idp.issuer);

describe('pages.register', () => {
  test('zh-CN by default with an English switch; a person registers with the keyboard (R-ID-1)', async () => {
    const page = await newPage();
    await page.goto(`${idp.issuer}/register`);
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    await expect(page.getByLabel('居民身份证号码').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: artifactPath('register-zh.png'), fullPage: true });

    await page.getByRole('link', { name: 'English' }).click();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    const c = newCitizen();
    await page.getByLabel('Full name').fill(c.name);
    await page.getByLabel('Resident ID number').fill(c.idNumber);
    await page.getByLabel('Mobile number').fill(c.mobile);
    // R-ID-1: the mobile is proven with an SMS code (the development sink's file).
    await page.getByRole('button', { name: 'Send code' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('A code was sent');
    await page.getByLabel('SMS code').fill(await idp.lastCode(c.mobile, 'otp.register'));
    await page.getByLabel('One more identity factor').selectOption({ index: 0 });
    await page.getByLabel('Factor number').fill('A1234567');
    await page.getByLabel('Choose a password').fill(c.password);
    await page.getByLabel(/I have read and accept/).check();
    await page.getByRole('button', { name: 'Register' }).press('Enter');
    await expect(page.getByRole('status').textContent()).resolves.toContain('Your account has been created');
    await page.screenshot({ path: artifactPath('registered-en.png'), fullPage: true });
  });

  test('a wrong check digit is shown on the form with its code (R-ID-1)', async () => {
    const page = await newPage();
    await page.goto(`${idp.issuer}/register`);
    const c = newCitizen();
    await page.getByLabel('姓名').fill(c.name);
    await page.getByLabel('居民身份证号码').fill(c.idNumber.slice(0, 17) + (c.idNumber[17] === '0' ? '1' : '0'));
    await page.getByLabel('手机号码').fill(c.mobile);
    await page.getByLabel('要素号码').fill('A1234567');
    await page.getByLabel('设置密码').fill(c.password);
    await page.locator('#agreementVersion').check();
    await page.getByRole('button', { name: '注册' }).click();
    await expect(page.content()).resolves.toContain('ID_NUMBER_INVALID');
  });
});

describe('pages.login', () => {
  test('authorization code + PKCE through the login and consent pages (R-ID-5)', async () => {
    const page = await newPage();
    const config = await discoverClient(idp.issuer);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid profile', state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    await page.goto(url.href);
    await page.getByLabel('身份证号码、手机号码或用户名').fill('13800138000');
    await page.getByLabel('密码').fill('Citizen@2026demo');
    await page.screenshot({ path: artifactPath('login-zh.png'), fullPage: true });
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('button', { name: '同意' }).click();
    await page.waitForURL(/127\.0\.0\.1:3000\/callback/);
    const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.claims()?.sub).toBeTruthy();
    expect(tokens.access_token.split('.')).toHaveLength(3);
  });
});
