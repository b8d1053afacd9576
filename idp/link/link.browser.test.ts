/**
 * R-ID-3's pages in headless Chromium (Debian's package, playwright-core), with a second real
 * IdP as the national platform: the registration page offers the platform, the national login
 * and consent pages (naming the real-name scope), city's agreement page with the ID number
 * masked (zh-CN, then English), the result, and later a login through the platform from the
 * login page. Driven by label, role and keyboard; screenshots kept; nothing loaded from outside
 * the two platforms.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { maskIdNumber } from '../../kernel/ids.ts';
import { newCitizen } from '../../test/journey.ts';
import { PORTAL_CALLBACK, artifactPath, launchBrowser, portalPage } from '../../test/support/browser.ts';
import { discoverClient, registerPerson } from '../../test/support/oidc.ts';
import { NATIONAL, startPlatforms, type Platforms } from '../../test/support/idp/platforms.ts';

let p: Platforms;
let browser: Browser;
beforeAll(async () => {
  p = await startPlatforms();
  browser = await launchBrowser();
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await p?.close();
});

/** A zh-CN page that may visit both platforms (and the portal's callback, answered in the browser), nothing else. */
const newPage = (): Promise<Page> => portalPage(browser, [p.national.issuer, p.city.issuer]);

async function nationalLogin(page: Page, c: { idNumber: string; password: string }) {
  await page.getByLabel('身份证号码、手机号码或用户名').fill(c.idNumber);
  await page.getByLabel('密码').fill(c.password);
  await page.getByRole('button', { name: '登录' }).press('Enter');
}

describe('pages.linked-registration', () => {
  test('register through the national platform: its login and consent, then only the agreement here (ID masked), in zh-CN and English', async () => {
    const c = newCitizen();
    await registerPerson(p.national.issuer, c);
    const page = await newPage();
    await page.goto(`${p.city.issuer}/register`);
    await expect(page.getByRole('heading', { name: '关联注册' }).isVisible()).resolves.toBe(true);
    await page.getByRole('link', { name: NATIONAL.name.zh }).click();
    await page.waitForURL(`${p.national.issuer}/**`);
    await nationalLogin(page, c);
    // The national platform's consent page names what it releases.
    await expect(page.getByRole('list').textContent()).resolves.toContain('完整身份证号码');
    await page.getByRole('button', { name: '同意' }).click();
    await page.waitForURL(`${p.city.issuer}/register/link`);
    const text = await page.locator('main').textContent();
    expect(text).toContain(maskIdNumber(c.idNumber));
    expect(text).not.toContain(c.idNumber);
    expect(text).toContain(NATIONAL.name.zh);
    await page.screenshot({ path: artifactPath('link-agreement-zh.png'), fullPage: true });

    await page.getByRole('link', { name: 'English' }).click();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await page.getByLabel(/I have read and accept/).check();
    await page.screenshot({ path: artifactPath('link-agreement-en.png'), fullPage: true });
    await page.getByRole('button', { name: 'Accept and register' }).press('Enter');
    await expect(page.getByRole('status').textContent()).resolves.toContain('Your account has been created');
    await page.screenshot({ path: artifactPath('link-registered-en.png'), fullPage: true });
    expect((await p.city.db.query('select 1 from idp.accounts where id_number = $1 and proofing = $2', [c.idNumber, 'linked'])).rows).toHaveLength(1);

    // Later, from an application's login page: "with another real-name platform".
    const config = await discoverClient(p.city.issuer);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    await page.goto(client.buildAuthorizationUrl(config, {
      redirect_uri: PORTAL_CALLBACK, scope: 'openid profile', state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ui_locales: 'zh-CN',
    }).href);
    await page.getByRole('link', { name: 'National government service platform' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${PORTAL_CALLBACK}**`);
    const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.claims()).toMatchObject({ amr: ['fed'], acr: 'urn:yiwang:loa:3' });
  });

  test('an ID number registered here: the refusal page says so and offers to log in and link', async () => {
    const c = newCitizen();
    await registerPerson(p.national.issuer, c);
    await registerPerson(p.city.issuer, c);
    const page = await newPage();
    await page.goto(`${p.city.issuer}/register/link/${NATIONAL.id}`);
    await nationalLogin(page, c);
    await page.getByRole('button', { name: '同意' }).click();
    await page.waitForURL(`${p.city.issuer}/link/callback**`);
    await expect(page.getByRole('alert').getAttribute('data-code')).resolves.toBe('ACCOUNT_EXISTS');
    await expect(page.getByRole('link', { name: '登录并关联' }).getAttribute('href')).resolves.toBe('/account/links');
    await page.screenshot({ path: artifactPath('link-account-exists-zh.png'), fullPage: true });
  });
});
