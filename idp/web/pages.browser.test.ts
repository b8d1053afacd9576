/**
 * The IdP's pages in headless Chromium (Debian's package, playwright-core): the login page's
 * three methods (SMS code typed in; a QR code the app approves while the page polls), the
 * step-up page (a level asked for or demanded by the client), the
 * account page (profile, sessions, company registration, the delegations link) and password
 * recovery, in zh-CN and English, driven by label and keyboard, with screenshots kept.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { DEMO_CITIZEN } from '../../kernel/demo.ts';
import { maskIdNumber } from '../../kernel/ids.ts';
import { artifactPath, launchBrowser, portalPage } from '../../test/support/browser.ts';
import { callApi, discoverClient, loginWithPkce, registerPerson, startTestIdp, type TestIdp } from '../../test/support/oidc.ts';
import { newCitizen } from '../../test/journey.ts';
import { DEMO_COMPANY } from '../dev-registry.ts';

const REDIRECT = 'http://127.0.0.1:3000/callback';
let idp: TestIdp;
let browser: Browser;

beforeAll(async () => {
  idp = await startTestIdp({ seed: true, env: { IDP_PORTAL_REDIRECT_URIS: REDIRECT, IDP_OTP_RESEND_SECONDS: '0' } });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await idp?.close();
});

const newPage = (): Promise<Page> => portalPage(browser, idp.issuer);

async function authorize(page: Page, extra: Record<string, string> = {}) {
  const config = await discoverClient(idp.issuer);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid profile', state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  await page.goto(url.href);
  return async () => {
    await page.waitForURL(/127\.0\.0\.1:3000\/callback/);
    return client.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
  };
}

describe('pages.login-methods', () => {
  test('mobile + SMS code, typed with the keyboard', async () => {
    const c = newCitizen();
    await registerPerson(idp.issuer, c);
    const page = await newPage();
    const done = await authorize(page);
    await page.getByLabel('绑定的手机').fill(c.mobile);
    await page.getByRole('button', { name: '获取验证码' }).press('Enter');
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('验证码已发送');
    await page.getByLabel('短信中的 6 位数字').fill(await idp.lastCode(c.mobile, 'otp.login'));
    await page.screenshot({ path: artifactPath('login-sms-zh.png'), fullPage: true });
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: '同意' }).click();
    const tokens = await done();
    expect(tokens.claims()).toMatchObject({ acr: 'urn:yiwang:loa:3', amr: ['sms'] });
  });

  test('QR code: the page polls and completes by itself once the app approves', async () => {
    const app = await loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, login: DEMO_CITIZEN.idNumber, password: DEMO_CITIZEN.password });
    const page = await newPage();
    const done = await authorize(page);
    const img = page.getByRole('img', { name: /扫码二维码/ });
    await expect(img.isVisible()).resolves.toBe(true);
    await page.screenshot({ path: artifactPath('login-qr-zh.png'), fullPage: true });
    const code = new URL((await img.getAttribute('data-qr-url'))!).pathname.split('/').pop()!;
    expect((await callApi(idp.issuer, 'POST', `/qr/${code}/approve`, { token: app.access_token })).status).toBe(200);
    await page.getByRole('button', { name: '同意' }).click({ timeout: 10_000 });
    expect((await done()).claims()).toMatchObject({ sub: DEMO_CITIZEN.id, amr: ['qr'] });
  });
});

describe('pages.stepup', () => {
  const L5 = 'urn:yiwang:loa:5';
  /** A counter-registered person (L5), who reaches L5 with password + SMS code. */
  async function counterPerson() {
    const c = newCitizen();
    const { id } = await registerPerson(idp.issuer, c);
    await idp.db.query(`update idp.accounts set assurance_level = 5, proofing = 'counter' where id = $1`, [id]);
    return c;
  }
  async function logInWithPassword(page: Page, c: { idNumber: string; password: string }) {
    await page.getByLabel('身份证号码、手机号码或用户名').fill(c.idNumber);
    await page.getByLabel('密码', { exact: true }).fill(c.password);
    await page.keyboard.press('Enter');
  }

  test('asked for L5 (acr_values): the SMS code typed in gives L5, "continue at my current level" L3; demanded, no such button', async () => {
    const c = await counterPerson();
    const page = await newPage();
    const done = await authorize(page, { acr_values: L5 });
    await logInWithPassword(page, c);
    await page.getByText('该应用希望认证等级达到 5 级').waitFor();
    await page.getByRole('button', { name: '发送验证码到绑定手机' }).press('Enter');
    await expect(page.getByRole('status').textContent()).resolves.toContain('验证码已发送');
    await page.getByLabel('短信中的 6 位数字').fill(await idp.lastCode(c.mobile, 'otp.stepup'));
    await page.screenshot({ path: artifactPath('stepup-voluntary-zh.png'), fullPage: true });
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: '同意' }).click();
    expect((await done()).claims()).toMatchObject({ acr: L5, amr: ['pwd', 'sms'] });

    const declining = await newPage();
    const declined = await authorize(declining, { acr_values: L5 });
    await logInWithPassword(declining, c);
    await declining.getByRole('button', { name: '以当前等级继续' }).click();
    await declining.getByRole('button', { name: '同意' }).click();
    expect((await declined()).claims()).toMatchObject({ acr: 'urn:yiwang:loa:3', amr: ['pwd'] });

    const strict = await newPage();
    await authorize(strict, { claims: JSON.stringify({ id_token: { acr: { essential: true, value: L5 } } }) });
    await logInWithPassword(strict, c);
    await strict.getByText('该应用要求认证等级 5 级').waitFor();
    await expect(strict.getByRole('button', { name: '以当前等级继续' }).count()).resolves.toBe(0);
  });
});

describe('pages.qr-phone', () => {
  test('scanned in the phone\'s browser: log in there, approve, and the desktop page continues', async () => {
    const desktop = await newPage();
    const done = await authorize(desktop);
    const qrUrl = (await desktop.getByRole('img', { name: /扫码二维码/ }).getAttribute('data-qr-url'))!;
    const phone = await (await browser.newContext({ locale: 'zh-CN', viewport: { width: 390, height: 844 } })).newPage();
    await phone.goto(qrUrl);
    // Not logged in on the phone: the login comes first, then back to the approval.
    await phone.getByLabel('身份证号码、手机号码或用户名').fill(DEMO_CITIZEN.mobile);
    await phone.getByLabel('密码').fill(DEMO_CITIZEN.password);
    await phone.getByRole('button', { name: '登录' }).click();
    await phone.waitForURL(qrUrl);
    await phone.screenshot({ path: artifactPath('qr-approve-phone-zh.png'), fullPage: true });
    await phone.getByRole('button', { name: '确认登录' }).click();
    await expect(phone.getByRole('status').textContent()).resolves.toContain('已确认');
    await desktop.getByRole('button', { name: '同意' }).click({ timeout: 10_000 });
    expect((await done()).claims()).toMatchObject({ sub: DEMO_CITIZEN.id, amr: ['qr'], acr: 'urn:yiwang:loa:3' });
  });
});

describe('pages.account', () => {
  test('log in to the account page, see the masked profile and sessions, register the company, switch to English', async () => {
    const page = await newPage();
    await page.goto(`${idp.issuer}/account`);
    await page.getByLabel('身份证号码、手机号码或用户名').fill(DEMO_CITIZEN.idNumber);
    await page.getByLabel('密码').fill(DEMO_CITIZEN.password);
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL(`${idp.issuer}/account`);
    await expect(page.content()).resolves.toContain(maskIdNumber(DEMO_CITIZEN.idNumber));
    await expect(page.getByRole('region', { name: '登录会话' }).textContent()).resolves.toContain('（当前）');
    await expect(page.getByRole('link', { name: '查看和管理法人授权' }).getAttribute('href')).resolves.toBe('/account/delegations');
    await page.getByLabel('统一社会信用代码').fill(DEMO_COMPANY.creditCode);
    await page.getByLabel('单位名称').fill(DEMO_COMPANY.name);
    await page.locator('#companyAgreement').check();
    await page.getByRole('button', { name: '注册法人单位' }).press('Enter');
    await expect(page.getByRole('status').first().textContent()).resolves.toContain(DEMO_COMPANY.name);
    await page.screenshot({ path: artifactPath('account-zh.png'), fullPage: true });
    await page.getByRole('link', { name: 'English' }).click();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await expect(page.getByRole('heading', { name: 'My companies' }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: artifactPath('account-en.png'), fullPage: true });
  });

  test('password recovery by SMS through the page', async () => {
    const c = newCitizen();
    await registerPerson(idp.issuer, c);
    const page = await newPage();
    await page.goto(`${idp.issuer}/recover?lang=en`);
    await page.getByLabel('ID number or bound mobile number').fill(c.mobile);
    await page.getByRole('button', { name: 'Send a code' }).click();
    await page.getByLabel('The 6-digit code from the SMS').fill(await idp.lastCode(c.mobile, 'otp.reset'));
    await page.getByLabel('New password').fill('Browser#2026pw');
    await page.getByRole('button', { name: 'Reset the password' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('has been reset');
    await page.screenshot({ path: artifactPath('recover-en.png'), fullPage: true });
    await loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, login: c.mobile, password: 'Browser#2026pw' });
  });
});
