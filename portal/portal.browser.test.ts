/**
 * The public guide pages in real headless Chromium, against the whole platform (IdP, subgraphs,
 * gateway, portal on free ports): the pages see only the gateway, load nothing from elsewhere,
 * and a citizen searches, filters, opens a guide, scans its QR code, browses by situation and
 * switches to English with the keyboard and labelled controls.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import jsqrModule from 'jsqr';
import { PNG } from 'pngjs';
import type { Browser } from 'playwright-core';
import { DEMO_ITEMS } from '../kernel/demo.ts';
import type { Cache } from '../kernel/cache.ts';
import type { TestDb } from '../test/support/infra.ts';
import { artifactPath, portalPage } from '../test/support/browser.ts';
import { startPortalPlatform, type PortalPlatform } from '../test/support/portal-platform.ts';
import { streamProbe } from '../test/support/streams.ts';
import { eventually } from '../test/support/eventually.ts';

// jsqr is CommonJS with a `default` property: Node hands the function itself, TypeScript the module.
type JsQr = typeof jsqrModule.default;
const jsQR: JsQr = (typeof jsqrModule === 'function' ? jsqrModule : jsqrModule.default) as JsQr;

let env: PortalPlatform;
let db: TestDb;
let cache: Cache;
let browser: Browser;
let portal: string;
const food = DEMO_ITEMS[0]!;

beforeAll(async () => {
  env = await startPortalPlatform();
  ({ db, cache, browser, portal } = env);
  // One completed case makes the food item hot.
  await streamProbe(cache).publish('cases', 'case.completed', { caseId: 'p-1', itemId: food.id, applicantId: 'someone', outcomeCode: '0', completedAt: new Date().toISOString() });
  await eventually(async () => (await db.query('select 1 from item.case_stats where item_id = $1', [food.id])).rowCount === 1);
}, 180_000);

afterAll(async () => {
  await env?.close();
});

describe('ranking board', () => {
  test('R-EV-5: the board is reached from the home page, shows the period or says nobody is ranked yet, and the formula', async () => {
    const page = await portalPage(browser, portal);
    await page.goto(portal);
    await page.getByRole('link', { name: '部门服务排行榜' }).click();
    await page.waitForURL(/\/rankings/);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('部门服务排行榜');
    const table = await page.locator('table.rankings').count();
    if (table === 0) await expect(page.getByRole('status').textContent()).resolves.toBe('本统计周期还没有可排名的部门。');
    else await expect(page.locator('table.rankings tbody tr').count()).resolves.toBeGreaterThan(0);
    await expect(page.getByRole('heading', { name: '计算方法' }).isVisible()).resolves.toBe(true);
    await expect(page.locator('p.hint').last().textContent()).resolves.toContain('全程网办率');
    await page.screenshot({ path: artifactPath('portal-rankings-zh.png'), fullPage: true });
  });
});

describe('guide pages', () => {
  test('home: hot list and situations; a search from the keyboard marks what matched; filters narrow', async () => {
    const page = await portalPage(browser, portal);
    await page.goto(portal);
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    await expect(page.getByRole('heading', { name: '热门服务' }).isVisible()).resolves.toBe(true);
    await expect(page.locator('.hot li').first().textContent()).resolves.toContain(food.name);
    await expect(page.getByRole('heading', { name: '自然人' }).isVisible()).resolves.toBe(true);

    await page.getByLabel('搜索事项（名称、编码、材料、主题）').fill('食品许可');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/search\?/);
    const first = page.locator('.results li a').first();
    await expect(first.textContent()).resolves.toBe(food.name);
    expect(await first.locator('mark').allTextContents()).toEqual(['食品', '许可']);
    await expect(page.getByRole('status').textContent()).resolves.toMatch(/共找到 \d+ 项/);
    await page.screenshot({ path: artifactPath('portal-search-zh.png'), fullPage: true });

    await page.getByLabel('事项性质').selectOption('SERVICE');
    await page.getByRole('button', { name: '应用筛选' }).click();
    await page.waitForURL(/nature=SERVICE/);
    await expect(page.locator('.results li').count()).resolves.toBe(0);
    await page.getByLabel('搜索事项（名称、编码、材料、主题）').fill('参保');
    await page.getByRole('button', { name: '搜索', exact: true }).click();
    await expect(page.locator('.results li a').allTextContents()).resolves.toEqual(['灵活就业人员参保登记']);
  });

  test('R-IT-8: the guide shows materials, hints and scope, and its QR code opens the same guide', async () => {
    const page = await portalPage(browser, portal);
    await page.goto(`${portal}/search?q=${encodeURIComponent('食品经营')}`);
    await page.locator('.results li a').first().click();
    await page.waitForURL(/\/items\//);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(food.name);
    const rows = page.locator('table.materials tbody tr');
    await expect(rows.count()).resolves.toBe(food.materials.length);
    await expect(rows.nth(1).textContent()).resolves.toContain('可用电子证照代替');
    const hints = await page.locator('.hints').textContent();
    expect(hints).toContain('全省通办');
    expect(hints).toContain('可网上办理');
    await expect(page.getByText('《中华人民共和国食品安全法》', { exact: false }).first().isVisible()).resolves.toBe(true);
    const png = PNG.sync.read(await page.locator('.qr svg').screenshot());
    const qr = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(qr?.data).toBe(`${portal}/items/${food.id}`);
    await page.screenshot({ path: artifactPath('portal-guide-zh.png'), fullPage: true });

    await page.getByRole('link', { name: 'English' }).click();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await expect(page.getByRole('heading', { name: 'Materials' }).isVisible()).resolves.toBe(true);
    await expect(page.locator('.hints').textContent()).resolves.toContain('Anywhere in the province');
  });

  test('situations: person → social security → its services', async () => {
    const page = await portalPage(browser, portal);
    await page.goto(portal);
    await page.getByRole('region', { name: '自然人' }).getByRole('link', { name: '社会保障' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('社会保障');
    await expect(page.locator('.results li a').allTextContents()).resolves.toEqual(['灵活就业人员参保登记']);
  });

  test('unknown items are 404 pages; bad filters a 400 page; pages carry a strict content security policy', async () => {
    for (const path of ['/items/b0f7c1f2-0001-4000-8000-00000000ffff', '/items/not-a-uuid', '/themes/X99']) {
      const res = await fetch(`${portal}${path}`);
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('没有找到');
    }
    const bad = await fetch(`${portal}/search?q=x&theme=NOPE`);
    expect(bad.status).toBe(400);
    const res = await fetch(portal);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await (await fetch(`${portal}/healthz`)).json()).toMatchObject({ status: 'ok' });
  });
});
