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
/** The service's address for a URL on LICENCE_PUBLIC_URL (the test service listens elsewhere). */
const local = (url: string) => url.replace(f.deps.config.LICENCE_PUBLIC_URL, f.svc.url);
const blob = (b: Buffer, type: string) => new Blob([new Uint8Array(b)], { type });

beforeAll(async () => {
  f = await startLicenceFixture();
  lic = await issue(f);
  // What the licence's QR code carries in production: the verify URL on LICENCE_PUBLIC_URL.
  ref = qrText({ credential: lic.credential, licenceId: lic.id, publicBase: f.deps.config.LICENCE_PUBLIC_URL });
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
    expect(ref).toBe(`${f.deps.config.LICENCE_PUBLIC_URL}/verify?ref=${lic.id}.${licenceDigest(lic.credential)}`);
    expect(parseReference(ref, f.deps.config.LICENCE_PUBLIC_URL)).toEqual({ licenceId: lic.id, digest: licenceDigest(lic.credential) });
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
    const ok = await (await fetch(local(ref))).text();
    expect(ok).toContain('data-valid="true"');
    const bad = await (await fetch(local(ref).replace(/.{4}$/, 'AAAA'))).text();
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

  test('a reference counts only as the whole input: a tampered licence with ?ref= of a genuine one is verified as submitted, never as the stored licence', async () => {
    const reference = `${lic.id}.${licenceDigest(lic.credential)}`;
    const [h, p, sig] = lic.credential.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as { credentialSubject: { licence: { holderName: string } } };
    payload.credentialSubject.licence.holderName = '王五';
    const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
    const mixed = [`${tampered}?ref=${reference}`, `${tampered} ${ref}`, `${tampered}&ref=${reference}`, `${ref}#${tampered}`];
    for (const [i, input] of mixed.entries()) {
      const json = (await (await fetch(`${f.svc.url}/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential: input }) })).json()) as { valid: boolean; licence: unknown };
      expect([i, json.valid, json.licence]).toEqual([i, false, null]);
      const pasted = await post({ credential: input });
      expect([i, pasted.html]).toEqual([i, expect.not.stringContaining('data-valid="true"')]);
      expect(pasted.html).not.toContain(lic.number);
      const file = await post({ file: blob(Buffer.from(JSON.stringify({ credential: input })), 'application/json') });
      expect(file.html).not.toContain('data-valid="true"');
    }
    // The QR picture of a mixed text, and GET /verify?ref= carrying anything but a bare reference.
    const qr = await post({ file: blob(await png(`${tampered.slice(0, 1500)}?ref=${reference}`), 'image/png') });
    expect(qr.html).not.toContain('data-valid="true"');
    for (const [i, query] of [`${h.slice(0, 200)}.${p.slice(0, 200)}.${sig.slice(0, 40)}?ref=${reference}`, `${reference}x`, `${ref}`].entries()) {
      const res = await fetch(`${f.svc.url}/verify?ref=${encodeURIComponent(query)}`);
      expect([i, res.status, await res.text()]).toEqual([i, 400, expect.stringContaining('data-code="BAD_INPUT"')]);
    }
    // A verify URL of another site is not ours; the bare reference and our own URL still verify.
    expect(parseReference(ref.replace(f.deps.config.LICENCE_PUBLIC_URL, 'https://verify.example.com'), f.deps.config.LICENCE_PUBLIC_URL)).toBeNull();
    expect(parseReference(`${ref}&x=1`, f.deps.config.LICENCE_PUBLIC_URL)).toBeNull();
    for (const input of [reference, ref]) expect((await post({ credential: input })).html).toContain('data-valid="true"');
  });

  test('bad input is a 4xx on the page, never INTERNAL: a broken percent-encoding in ?ref=, an upload over the size limit', async () => {
    const res = await fetch(`${f.svc.url}/verify?ref=%E0%A4%A`);
    expect([res.status, await res.text()]).toEqual([400, expect.stringContaining('data-code="BAD_INPUT"')]);
    const big = await post({ file: blob(Buffer.alloc(3 * 1024 * 1024, 0x41), 'application/octet-stream') });
    expect([big.status, big.html]).toEqual([413, expect.stringContaining('data-code="PAYLOAD_TOO_LARGE"')]);
    expect(big.html).toContain('<form method="post" action="/verify"');
    const many = new FormData();
    for (let i = 0; i < 8; i++) many.append(`f${i}`, 'x');
    const fields = await fetch(`${f.svc.url}/verify`, { method: 'POST', body: many });
    expect([fields.status, await fields.text()]).toEqual([413, expect.stringContaining('data-code="PAYLOAD_TOO_LARGE"')]);
    const broken = await fetch(`${f.svc.url}/verify`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=zzz' }, body: '--zzz\r\nContent-Disposition: form-data; name="credential"\r\n\r\nabc' });
    expect([broken.status, await broken.text()]).toEqual([400, expect.stringContaining('data-code="BAD_INPUT"')]);
    const json = await fetch(`${f.svc.url}/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential: 'x'.repeat(200 * 1024) }) });
    expect([json.status, ((await json.json()) as { code: string }).code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });
});
