/**
 * The delegations page (R-ID-8) in headless Chromium: reached from the account
 * page by keyboard, the grant form filled by its labels (a refusal shown with its code, then a
 * grant), the grant listed, revoked, the page in English; nothing loaded from outside the
 * platform; screenshots kept.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { artifactPath, launchBrowser } from '../../test/support/browser.ts';
import { registerPerson, startTestIdp, type TestIdp } from '../../test/support/oidc.ts';
import { newCitizen } from '../../test/journey.ts';
import { creditCode, insertCompany } from '../../test/support/idp/companies.ts';

const COMPANY = creditCode('91330106MA2D00000');
const ITEM_A = 'b0f7c1f2-0001-4000-8000-000000000001';
const UNTIL = new Date(Date.now() + 200 * 24 * 3600_000).toISOString().slice(0, 10);
let idp: TestIdp;
let browser: Browser;
const rep = { ...newCitizen(), name: '吴法人' };
const grantee = { ...newCitizen(), name: '郑经办' };

beforeAll(async () => {
  idp = await startTestIdp();
  browser = await launchBrowser();
  const { id } = await registerPerson(idp.issuer, rep);
  await registerPerson(idp.issuer, grantee);
  await insertCompany(idp.db, COMPANY, id, '宁波授权浏览器测试有限公司');
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await idp?.close();
});

async function newPage(): Promise<Page> {
  const page = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  page.on('request', (r) => { if (!r.url().startsWith(idp.issuer) && !r.url().startsWith('data:')) throw new Error(`external request ${r.url()}`); });
  return page;
}

describe('delegations.browser', () => {
  test('grant by keyboard and labels, a refusal with its code, the grant listed, revoked, English', async () => {
    const page = await newPage();
    await page.goto(`${idp.issuer}/account/delegations`);
    await page.getByLabel('身份证号码、手机号码或用户名').fill(rep.idNumber);
    await page.getByLabel('密码').fill(rep.password);
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL(`${idp.issuer}/account`);
    await page.getByRole('link', { name: '查看和管理法人授权' }).press('Enter');
    await page.waitForURL(`${idp.issuer}/account/delegations`);
    await expect(page.getByRole('heading', { name: '法人授权', level: 1 }).isVisible()).resolves.toBe(true);

    await page.getByLabel('代表的法人单位').selectOption(COMPANY);
    await page.getByLabel('被授权人身份证号码或手机号码').fill(grantee.mobile);
    await page.getByLabel('被授权人姓名（用于核对）').fill('别人');
    await page.getByLabel('授权办理的事项').fill(ITEM_A);
    await page.getByLabel('授权结束日期').fill(UNTIL);
    await page.getByLabel('授权结束日期').press('Enter');
    await expect(page.getByRole('alert').getAttribute('data-code')).resolves.toBe('NOT_FOUND');
    // The form keeps what was typed; correct the name and send again.
    await expect(page.getByLabel('授权办理的事项').inputValue()).resolves.toBe(ITEM_A);
    await page.getByLabel('被授权人姓名（用于核对）').fill(grantee.name);
    await page.getByRole('button', { name: '授权', exact: true }).press('Enter');
    await expect(page.getByRole('status').textContent()).resolves.toContain(`已授权 ${grantee.name}（第 1 级）`);
    const granted = page.getByRole('region', { name: '我授出的授权' });
    await expect(granted.textContent()).resolves.toContain(`${ITEM_A}`);
    await expect(granted.textContent()).resolves.toContain(`– ${UNTIL}`);
    await page.screenshot({ path: artifactPath('account-delegations-zh.png'), fullPage: true });

    await granted.getByRole('button', { name: `撤销授予 ${grantee.name} 的 宁波授权浏览器测试有限公司 授权（连同其转授）` }).press('Enter');
    await expect(page.getByRole('status').textContent()).resolves.toContain('已撤销 1 项授权');
    await expect(page.getByRole('region', { name: '我授出的授权' }).textContent()).resolves.toContain('已撤销');

    await page.getByRole('link', { name: 'English' }).click();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await expect(page.getByRole('heading', { name: 'Delegations I granted' }).isVisible()).resolves.toBe(true);
    await expect(page.getByLabel('Grantee\'s ID number or mobile number').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: artifactPath('account-delegations-en.png'), fullPage: true });
  });
});
