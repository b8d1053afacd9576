/**
 * The live chat widget of the item guides (R-EV-2) in real headless Chromium, against the whole
 * platform on free ports: a citizen reads a guide, logs in through the IdP's pages, asks, sees
 * the agency's staff join and answer live, ends the chat and finds it kept as a consultation;
 * the widget in English. The staff side answers through the evaluation subgraph.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { internalKey, type Caller } from '../kernel/internal-auth.ts';
import { DEMO_AGENCIES, DEMO_CITIZEN, DEMO_ITEMS } from '../kernel/demo.ts';
import type { Platform } from '../bin/platform.ts';
import { TEST_SECRET, type TestDb } from '../test/support/infra.ts';
import { artifactPath } from '../test/support/browser.ts';
import { startPortalPlatform, type PortalPlatform } from '../test/support/portal-platform.ts';
import { callSubgraph } from '../test/support/subgraph.ts';
import { eventually } from '../test/support/eventually.ts';

let env: PortalPlatform;
let db: TestDb;
let platform: Platform;
let browser: Browser;
let portal: string;
const food = DEMO_ITEMS[0]!;
const AGENT: Caller = { kind: 'staff', sub: '5a1f0000-0000-4000-8000-0000000000c1', name: '王收件', agency: DEMO_AGENCIES[1].code, roles: ['receiver'] };
const key = internalKey(TEST_SECRET);

/** A page that may reach the portal and the IdP only. */
async function page(locale: string): Promise<Page> {
  const context = await browser.newContext({ locale });
  const p = await context.newPage();
  const allowed = [portal, platform.config.IDP_ISSUER];
  p.on('request', (r) => {
    if (!allowed.some((a) => r.url().startsWith(a)) && !r.url().startsWith('data:')) throw new Error(`external request ${r.url()}`);
  });
  return p;
}

const staff = <T>(query: string, variables: Record<string, unknown>) => callSubgraph<T>(platform.services.evaluation.url, key, AGENT, query, variables);

beforeAll(async () => {
  env = await startPortalPlatform();
  ({ db, platform, browser, portal } = env);
  // The evaluation service routes chats with its item replica, fed from the item service's events.
  await eventually(async () => (await db.query('select 1 from evaluation.item_replica where item_id = $1', [food.id])).rowCount === 1, 30_000);
}, 180_000);

afterAll(async () => {
  await env?.close();
});

describe('live chat on the guide page (R-EV-2)', () => {
  test('R-EV-2: log in from the guide, ask, the agency\'s staff join and answer live, end it: kept as a consultation', async () => {
    const p = await page('zh-CN');
    await p.goto(`${portal}/items/${food.id}`);
    const section = p.getByRole('region', { name: '在线咨询' });
    await section.getByRole('link', { name: '登录后在线咨询' }).click();
    // The IdP's own login and consent pages, then back to the guide.
    await p.getByLabel('身份证号码、手机号码或用户名').fill(DEMO_CITIZEN.idNumber);
    await p.getByLabel('密码', { exact: true }).fill(DEMO_CITIZEN.password);
    await p.keyboard.press('Enter');
    // The IdP asks the person to let the portal use the graph on their behalf.
    await p.getByRole('button', { name: '同意' }).click();
    await p.waitForURL(`${portal}/items/${food.id}`);

    await p.getByLabel('输入咨询内容').fill('请问食品经营许可可以全程网办吗？');
    await p.getByRole('button', { name: '发送' }).click();
    const log = p.getByRole('log', { name: '咨询记录' });
    await log.getByText('请问食品经营许可可以全程网办吗？').waitFor();
    await p.getByRole('status').getByText('已转至实施机构，正在等待工作人员接入…').waitFor();

    // The agency's queue has it; a member of staff answers.
    const queue = await staff<{ chatQueue: Array<{ id: string; authorName: string }> }>('query { chatQueue { id authorName } }', {});
    expect(queue.errors).toBeUndefined();
    const mine = queue.data!.chatQueue.find((c) => c.authorName === DEMO_CITIZEN.name)!;
    expect(mine).toBeDefined();
    expect((await staff('mutation ($c: ID!, $t: String!) { sendChatMessage(chatId: $c, text: $t) { seq } }',
      { c: mine.id, t: '可以，五星事项，全程网上办理。' })).errors).toBeUndefined();
    await p.getByRole('status').getByText('工作人员王收件已接入').waitFor();
    await log.getByText('可以，五星事项，全程网上办理。').waitFor();
    await expect(log.locator('li.staff b').textContent()).resolves.toBe('工作人员王收件：');

    await p.getByLabel('输入咨询内容').fill('好的，谢谢！');
    await p.getByRole('button', { name: '发送' }).click();
    await log.getByText('好的，谢谢！').waitFor();
    await p.screenshot({ path: artifactPath('portal-chat-zh.png'), fullPage: true });

    await p.getByRole('button', { name: '结束咨询' }).click();
    await p.getByRole('status').getByText('咨询已结束，记录已保存。').waitFor();
    await expect(p.getByLabel('输入咨询内容').isDisabled()).resolves.toBe(true);
    const kept = await db.query<{ status: string; content: string; answer: string }>(
      `select f.status, f.content, f.answer from evaluation.chats c join evaluation.feedback f on f.id = c.feedback_id where c.id = $1`, [mine.id]);
    expect(kept.rows[0]).toMatchObject({ status: 'ANSWERED', answer: '可以，五星事项，全程网上办理。' });
    expect(kept.rows[0]!.content).toContain('请问食品经营许可可以全程网办吗？\n好的，谢谢！');
  }, 60_000);

  test('R-EV-2: in English; without a login the widget offers to log in, and the chat API refuses', async () => {
    const p = await page('en-US');
    await p.goto(`${portal}/items/${food.id}?lang=en`);
    const section = p.getByRole('region', { name: 'Live chat' });
    await expect(section.getByRole('link', { name: 'Log in to chat' }).getAttribute('href'))
      .resolves.toBe(`/login?return=${encodeURIComponent(`/items/${food.id}?lang=en`)}&lang=en`);
    await p.screenshot({ path: artifactPath('portal-chat-en.png'), fullPage: true });
    const refused = await fetch(`${portal}/chat/api/open`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-yiwang-chat': '1' }, body: '{}' });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    // Another site's form cannot post here (no custom header).
    expect((await fetch(`${portal}/chat/api/open`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(400);
    // A return address elsewhere is not followed.
    const r = await fetch(`${portal}/login?return=//evil.example/`, { redirect: 'manual' });
    expect(r.status).toBe(302);
    const flow = r.headers.get('set-cookie') ?? '';
    expect(decodeURIComponent(flow)).toContain('"back":"/"');
  });
});
