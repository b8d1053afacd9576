/**
 * The licence service's pages in real headless Chromium (Debian's package, playwright-core):
 * the holder opens their licence page, sees the seal and the QR code, and the QR code (read
 * from a screenshot of the page) verifies; the public verify page checks a pasted licence and
 * an uploaded QR picture; a verifier opens a share link, and an expired one is refused; the
 * printable PDF downloads with its font embedded.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import QRCode from 'qrcode';
import { writeFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { artifactPath, launchBrowser } from '../../test/support/browser.ts';
import { signLink } from './links.ts';
import { decodeQrImage } from './qr.ts';
import { HOLDER, HZ_SAMR, issue, person, staffOf, startLicenceFixture, type LicenceFixture, type StoredLicence } from '../../test/support/licence.ts';

let f: LicenceFixture;
let lic: StoredLicence;
let browser: Browser;
const local = (url: string) => url.replace(f.deps.config.LICENCE_PUBLIC_URL, f.svc.url);

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ locale: 'zh-CN', acceptDownloads: true });
  return context.newPage();
}

beforeAll(async () => {
  f = await startLicenceFixture();
  lic = await issue(f);
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await f?.close();
});

describe('licence.pages holder', () => {
  test('the holder\'s page shows the licence with its seal; its QR code, read from a screenshot, verifies', async () => {
    const r = await f.call<{ licence: { viewUrl: string } }>(person(HOLDER), 'query ($id: ID!) { licence(id: $id) { viewUrl } }', { id: lic.id });
    const page = await newPage();
    await page.goto(local(r.data!.licence.viewUrl));
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    await expect(page.getByRole('heading', { name: '食品经营许可证' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('status').getAttribute('data-valid')).resolves.toBe('true');
    await expect(page.getByRole('img', { name: /电子印章/ }).isVisible()).resolves.toBe(true);
    // The seal certificate's stored image, decoded and drawn by the browser (the certified impression).
    await expect(page.getByRole('img', { name: /电子印章/ }).evaluate((img) => [img.getAttribute('data-source'), (img as unknown as { naturalWidth: number }).naturalWidth])).resolves.toEqual(['certificate', 320]);
    await expect(page.getByText('330106********123X').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: artifactPath('licence-holder.png'), fullPage: true });

    const qr = await page.getByRole('img', { name: /QR code/ }).screenshot();
    const text = decodeQrImage(qr);
    await page.goto(local(text));
    await expect(page.getByRole('status').getAttribute('data-valid')).resolves.toBe('true');
    await expect(page.getByText(lic.number).isVisible()).resolves.toBe(true);
  });

  test('the PDF link downloads a PDF with the Chinese font embedded', async () => {
    const link = await signLink(f.deps.internalKey, { licenceId: lic.id, purpose: 'view', minutes: 5, now: new Date() });
    const page = await newPage();
    await page.goto(`${f.svc.url}/licences/view/${link.token}`);
    const res = await page.request.get(await page.getByRole('link', { name: /下载 PDF/ }).getAttribute('href').then((h) => new URL(h!, page.url()).href));
    const pdf = await res.body();
    writeFileSync(artifactPath('licence.pdf'), pdf);
    expect(res.headers()['content-type']).toBe('application/pdf');
    expect(pdf.toString('latin1')).toMatch(/\/BaseFont \/[A-Z]{6}\+NotoSansHans-Regular/);
  });

  test('a share link shows the licence to a verifier; a revoked licence says so; an expired link is refused', async () => {
    const shared = await f.call<{ shareLicence: { url: string } }>(person(HOLDER), 'mutation ($id: ID!) { shareLicence(id: $id, minutes: 10) { url } }', { id: lic.id });
    const page = await newPage();
    await page.goto(local(shared.data!.shareLicence.url));
    await expect(page.getByText('持证人分享的证照').isVisible()).resolves.toBe(true);
    await f.call(staffOf(HZ_SAMR.code), 'mutation ($id: ID!) { suspendLicence(id: $id, reason: "核查中") { state } }', { id: lic.id });
    await page.reload();
    await expect(page.getByRole('status').getAttribute('data-code')).resolves.toBe('LICENCE_SUSPENDED');
    await expect(page.getByText('已暂停 Suspended').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: artifactPath('licence-shared-suspended.png'), fullPage: true });
    await f.call(staffOf(HZ_SAMR.code), 'mutation ($id: ID!) { reinstateLicence(id: $id, reason: "核查无误") { state } }', { id: lic.id });

    const expired = await signLink(f.deps.internalKey, { licenceId: lic.id, purpose: 'share', minutes: 5, now: new Date(Date.now() - 6 * 60_000) });
    const res = await page.goto(`${f.svc.url}/licences/view/${expired.token}`);
    expect(res?.status()).toBe(404);
    await expect(page.getByRole('alert').getAttribute('data-code')).resolves.toBe('SHARE_LINK_INVALID');
  });
});

describe('licence.pages verify', () => {
  test('paste a licence: valid; paste a tampered one: the reason code', async () => {
    const page = await newPage();
    await page.goto(`${f.svc.url}/verify`);
    await page.getByLabel('证照内容 Licence text').fill(lic.credential);
    await page.getByRole('button', { name: '验证 Verify' }).click();
    await expect(page.getByRole('status').getAttribute('data-valid')).resolves.toBe('true');
    await page.screenshot({ path: artifactPath('verify-valid.png'), fullPage: true });

    await page.goto(`${f.svc.url}/verify`);
    const [h, p] = lic.credential.split('.');
    await page.getByLabel('证照内容 Licence text').fill(`${h}.${p}.AAAA`);
    await page.getByRole('button', { name: '验证 Verify' }).click();
    await expect(page.getByRole('status').getAttribute('data-code')).resolves.toBe('LICENCE_BAD_SIGNATURE');
    await page.screenshot({ path: artifactPath('verify-invalid.png'), fullPage: true });
  });

  test('upload a picture of the QR code: valid', async () => {
    const link = await signLink(f.deps.internalKey, { licenceId: lic.id, purpose: 'view', minutes: 5, now: new Date() });
    const html = await (await fetch(`${f.svc.url}/licences/view/${link.token}`)).text();
    const text = decodeQrImage(Buffer.from(/<img class="qr"[^>]*src="data:image\/png;base64,([^"]+)"/.exec(html)![1]!, 'base64'));
    const png = await QRCode.toBuffer(text, { scale: 4 });
    const page = await newPage();
    await page.goto(`${f.svc.url}/verify`);
    await page.getByLabel(/或上传文件或二维码图片/).setInputFiles({ name: 'qr.png', mimeType: 'image/png', buffer: png });
    await page.getByRole('button', { name: '验证 Verify' }).click();
    await expect(page.getByRole('status').getAttribute('data-valid')).resolves.toBe('true');
  });
});
