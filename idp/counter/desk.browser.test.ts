/**
 * The counter desk (R-ID-2) in headless Chromium (Debian's package, playwright-core): a receiver
 * logs in, registers a person at the window by label and keyboard, the applicant's SMS code is
 * read from the development sink and typed in, the account is activated and its initial password
 * shown; the person's first login then forces the password change before anything else. The page
 * in English too; nothing loaded from outside the platform; screenshots kept.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { DEMO_STAFF } from '../../kernel/demo.ts';
import { maskIdNumber } from '../../kernel/ids.ts';
import { PORTAL_CALLBACK, artifactPath, launchBrowser, portalPage } from '../../test/support/browser.ts';
import { discoverClient, startTestIdp, type TestIdp } from '../../test/support/oidc.ts';
import { newCitizen } from '../../test/journey.ts';

let idp: TestIdp;
let browser: Browser;
const receiver = DEMO_STAFF.find((s) => s.roles.includes('receiver'))!;

beforeAll(async () => {
  idp = await startTestIdp({ env: { IDP_PORTAL_REDIRECT_URIS: PORTAL_CALLBACK } });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await idp?.close();
});

const newPage = (): Promise<Page> => portalPage(browser, idp.issuer);

describe('counter.desk-browser', () => {
  test('a receiver registers a person, the SMS code activates the account, and the first login forces the password change', async () => {
    const applicant = { ...newCitizen(), name: '窗口注册人' };
    const desk = await newPage();
    await desk.goto(`${idp.issuer}/counter/desk`);
    // Not logged in: the IdP's login page, then back to the desk.
    await desk.getByLabel('身份证号码、手机号码或用户名').fill(receiver.username);
    await desk.getByLabel('密码').fill(receiver.password);
    await desk.getByLabel('密码').press('Enter');
    await desk.waitForURL(`${idp.issuer}/counter/desk`);
    await expect(desk.getByRole('heading', { name: '窗口注册', level: 1 }).isVisible()).resolves.toBe(true);

    await desk.getByLabel('申请人姓名').fill(applicant.name);
    await desk.getByLabel('居民身份证号码', { exact: true }).first().fill(applicant.idNumber);
    await desk.getByLabel('申请人手机号码').fill(applicant.mobile);
    await desk.getByRole('button', { name: '核验并发送验证码' }).press('Enter');
    await expect(desk.getByRole('status').textContent()).resolves.toContain('发送验证码');
    const waiting = desk.getByRole('region', { name: '待激活的注册' });
    await expect(waiting.textContent()).resolves.toContain(maskIdNumber(applicant.idNumber));

    // The applicant reads the code off their phone (the development sink) and tells the staff member.
    const code = await idp.lastCode(applicant.mobile, 'otp.counter');
    const codeField = waiting.getByLabel(`${applicant.name} 收到的 6 位短信验证码`);
    await codeField.fill(code);
    await desk.screenshot({ path: artifactPath('counter-desk-zh.png'), fullPage: true });
    await codeField.press('Enter');
    await expect(desk.getByRole('heading', { name: `${applicant.name} 的账户已激活` }).isVisible()).resolves.toBe(true);
    const initial = (await desk.locator('#initial-password').textContent())!.trim();
    expect(initial).toHaveLength(12);
    await desk.screenshot({ path: artifactPath('counter-desk-activated-zh.png'), fullPage: true });

    await desk.getByRole('link', { name: 'English' }).click();
    expect(await desk.getAttribute('html', 'lang')).toBe('en');
    await expect(desk.getByRole('heading', { name: 'Register a person' }).isVisible()).resolves.toBe(true);
    await expect(desk.getByLabel('Applicant\'s mobile number').isVisible()).resolves.toBe(true);
    // Shown once: the page again does not hold the password.
    expect(await desk.locator('#initial-password').count()).toBe(0);
    await desk.screenshot({ path: artifactPath('counter-desk-en.png'), fullPage: true });

    // The person's first login, through the portal: the initial password, then a password of their own.
    const person = await newPage();
    const config = await discoverClient(idp.issuer);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    await person.goto(client.buildAuthorizationUrl(config, {
      redirect_uri: PORTAL_CALLBACK, scope: 'openid profile', state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href);
    await person.getByLabel('身份证号码、手机号码或用户名').fill(applicant.idNumber);
    await person.getByLabel('密码').fill(initial);
    await person.getByLabel('密码').press('Enter');
    await expect(person.getByRole('heading', { name: '请修改初始密码' }).isVisible()).resolves.toBe(true);
    await person.getByLabel('新密码', { exact: true }).fill('Counter#2026mine');
    await person.getByLabel('再次输入新密码').fill('Counter#2026mine');
    await person.screenshot({ path: artifactPath('counter-first-login-zh.png'), fullPage: true });
    await person.getByLabel('再次输入新密码').press('Enter');
    await person.getByRole('button', { name: '同意' }).click();
    await person.waitForURL(/127\.0\.0\.1:3000\/callback/);
    const tokens = await client.authorizationCodeGrant(config, new URL(person.url()), { pkceCodeVerifier: verifier, expectedState: state });
    const row = (await idp.db.query<{ id: string; must_change_password: boolean; registered_by: string }>('select id, must_change_password, registered_by from idp.accounts where id_number = $1', [applicant.idNumber])).rows[0]!;
    expect(tokens.claims()).toMatchObject({ sub: row.id, amr: ['pwd'] });
    expect(row).toMatchObject({ must_change_password: false, registered_by: receiver.id });
  });
});
