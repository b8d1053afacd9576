/**
 * R-ID-12's home-platform choice in headless Chromium (Debian's package, playwright-core), with a
 * national anchor, a home and a visiting province IdP on one host name (as `npm run tiers` runs
 * them): the visiting login page's "用其他地区平台账号登录" section (the select of homes from the
 * directory, the ID number as hint), the home's login and consent pages, and back to the
 * application logged in with the level proven at home; then the home chosen from the select
 * with the keyboard, silent at home. Screenshots kept; nothing loaded from outside the platforms.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { newCitizen } from '../../test/journey.ts';
import { PORTAL_CALLBACK, artifactPath, launchBrowser, portalPage } from '../../test/support/browser.ts';
import { discoverClient, registerPerson } from '../../test/support/oidc.ts';
import { startFederation, type Federation } from '../../test/support/idp/federation.ts';

let f: Federation;
let browser: Browser;
beforeAll(async () => {
  f = await startFederation();
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await f?.close();
});

const newPage = (): Promise<Page> => portalPage(browser, [f.visiting.issuer, f.home.issuer]);

/** An application of the visiting platform sends the browser to its IdP. */
async function openApp(page: Page, params: Record<string, string> = {}) {
  const config = await discoverClient(f.visiting.issuer);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  await page.goto(client.buildAuthorizationUrl(config, {
    redirect_uri: PORTAL_CALLBACK, scope: 'openid profile', state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...params,
  }).href);
  return async () => {
    await page.waitForURL(`${PORTAL_CALLBACK}**`);
    return client.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
  };
}

describe('pages.cross-tier', () => {
  test('R-ID-12: the login page finds the home from the ID number; login and consent at home; back logged in at the home\'s level', async () => {
    const c = newCitizen();
    await registerPerson(f.home.issuer, c);
    const page = await newPage();
    const done = await openApp(page);
    await expect(page.getByRole('heading', { name: '用其他地区平台账号登录' }).isVisible()).resolves.toBe(true);
    await expect(page.getByLabel('您注册的平台').locator('option').allTextContents()).resolves.toEqual(['按身份证号码查找', expect.stringContaining('浙江省政务服务网')]);
    await page.getByLabel('或填写身份证号码（仅用于查找注册地平台）').fill(c.idNumber);
    await page.screenshot({ path: artifactPath('cross-tier-login-zh.png'), fullPage: true });
    await page.getByRole('button', { name: '前往注册平台登录' }).click();
    await page.waitForURL(`${f.home.issuer}/**`);
    await page.getByLabel('身份证号码、手机号码或用户名').fill(c.idNumber);
    await page.getByLabel('密码').fill(c.password);
    await page.getByRole('button', { name: '登录', exact: true }).press('Enter');
    // The home asks once whether to release the verified identity to this platform; then the application's own consent here.
    await expect(page.locator('main').textContent()).resolves.toContain('江苏政务服务网');
    await page.getByRole('button', { name: '同意' }).click();
    await page.waitForURL(`${f.visiting.issuer}/interaction/**`);
    await page.getByRole('button', { name: '同意' }).click();
    const tokens = await done();
    expect(tokens.claims()).toMatchObject({ amr: ['fed'], acr: 'urn:yiwang:loa:3' });

    // Again, the home picked from the select with the keyboard: logged in at home already, no page there.
    const again = await openApp(page, { prompt: 'login' });
    await page.getByLabel('您注册的平台').focus();
    await page.keyboard.press('ArrowDown');
    await expect(page.getByLabel('您注册的平台').inputValue()).resolves.toBe(f.home.issuer);
    await page.getByRole('button', { name: '前往注册平台登录' }).press('Enter');
    expect((await again()).claims()).toMatchObject({ sub: tokens.claims()!.sub, amr: ['fed'] });
  });

  test('an ID number of a region without a home platform: the page says so, in the home section', async () => {
    const page = await newPage();
    await openApp(page);
    await page.getByLabel('或填写身份证号码（仅用于查找注册地平台）').fill('110101199003077777');
    await page.getByRole('button', { name: '前往注册平台登录' }).click();
    await expect(page.locator('#m-home ~ [data-code], section:has(#m-home) [data-code]').first().getAttribute('data-code')).resolves.toBe('RECOGNITION_HOME_UNKNOWN');
    await page.screenshot({ path: artifactPath('cross-tier-unknown-zh.png'), fullPage: true });
  });
});
