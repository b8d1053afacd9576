/**
 * licence.verify-page: the public verify page over HTTP (its browser test is
 * licence.pages.browser.test.ts) — the form, and what it accepts: pasted text, a licence file,
 * a PNG or JPEG picture of the QR code (the full licence, or a reference + digest), and
 * `GET /verify?ref=` from a scanned QR; refusals come back on the form with their code.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { decodeQrImage, licenceDigest, qrText, parseReference } from './qr.ts';
import { issue, startLicenceFixture, type LicenceFixture, type StoredLicence } from '../../test/support/licence.ts';

let f: LicenceFixture;
let lic: StoredLicence;
let ref: string;

async function post(fields: Record<string, string | Blob>): Promise<{ status: number; html: string }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v, ...(typeof v === 'string' ? [] : ['upload']) as []);
  const res = await fetch(`${f.svc.url}/verify`, { method: 'POST', body: form });
  return { status: res.status, html: await res.text() };
}
const png = async (text: string) => QRCode.toBuffer(text, { errorCorrectionLevel: 'M', margin: 4, scale: 4 });
function toJpeg(p: Buffer): Buffer {
  const img = PNG.sync.read(p);
  return jpeg.encode({ width: img.width, height: img.height, data: img.data }, 95).data;
}
const blob = (b: Buffer, type: string) => new Blob([new Uint8Array(b)], { type });

beforeAll(async () => {
  f = await startLicenceFixture();
  lic = await issue(f);
  ref = qrText({ credential: lic.credential, licenceId: lic.id, publicBase: f.svc.url });
}, 60_000);
afterAll(async () => { await f?.close(); });

describe('licence.verify-page', () => {
  test('GET /verify is the form: paste, file or QR picture', async () => {
    const res = await fetch(`${f.svc.url}/verify`);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toMatch(/name="credential"[\s\S]*name="file" type="file"/);
  });

  test('a sealed licence is too long for a QR code: it carries a verify URL with a reference and the digest', () => {
    expect(lic.credential.length).toBeGreaterThan(2000);
    expect(ref).toBe(`${f.svc.url}/verify?ref=${lic.id}.${licenceDigest(lic.credential)}`);
    expect(parseReference(ref)).toEqual({ licenceId: lic.id, digest: licenceDigest(lic.credential) });
  });

  test('pasted text, an uploaded licence file, a PNG and a JPEG of the QR code all verify', async () => {
    const qr = await png(ref);
    expect(decodeQrImage(qr)).toBe(ref);
    for (const [what, fields] of [
      ['pasted', { credential: lic.credential }],
      ['file', { file: blob(Buffer.from(JSON.stringify({ credential: lic.credential })), 'application/json') }],
      ['png', { file: blob(qr, 'image/png') }],
      ['jpeg', { file: blob(toJpeg(qr), 'image/jpeg') }],
    ] as const) {
      const r = await post(fields as Record<string, string | Blob>);
      expect([what, r.status, r.html]).toEqual([what, 200, expect.stringContaining('data-valid="true"')]);
      expect(r.html).toContain(lic.number);
      expect(r.html).toContain('330106********123X');
    }
  });

  test('GET /verify?ref= verifies what the QR points to; a wrong digest is NOT_FOUND', async () => {
    const ok = await (await fetch(ref)).text();
    expect(ok).toContain('data-valid="true"');
    const bad = await (await fetch(ref.replace(/.{4}$/, 'AAAA'))).text();
    expect(bad).toMatch(/data-valid="false" data-code="NOT_FOUND"/);
  });

  test('a tampered paste is invalid with its reason; nothing given, or a picture without a QR, is BAD_INPUT on the form', async () => {
    const [h, p] = lic.credential.split('.');
    const r = await post({ credential: `${h}.${p}.AAAA` });
    expect(r.html).toMatch(/data-valid="false" data-code="LICENCE_BAD_SIGNATURE"/);
    const empty = await post({ credential: '' });
    expect([empty.status, empty.html]).toEqual([400, expect.stringContaining('data-code="BAD_INPUT"')]);
    const blank = new PNG({ width: 40, height: 40 });
    blank.data.fill(255);
    const noQr = await post({ file: blob(PNG.sync.write(blank), 'image/png') });
    expect([noQr.status, noQr.html]).toEqual([400, expect.stringContaining('data-code="BAD_INPUT"')]);
  });
});
