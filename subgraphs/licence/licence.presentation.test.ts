/**
 * licence.presentation: the holder's view link and share links over HTTP (the pages in
 * Chromium are licence.pages.browser.test.ts) — who may get them, how long they live, the PDF
 * with its embedded CJK font, seal and QR code, and the signed file that verifies offline.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { loadCertificate, readTrustBundle, verifyLicence } from '../../seal/index.ts';
import { signLink } from './links.ts';
import { decodeQrImage } from './qr.ts';
import { codeOf, HOLDER, HZ_SAMR, issue, OTHER_HOLDER, person, staffOf, startLicenceFixture, type LicenceFixture, type StoredLicence } from '../../test/support/licence.ts';

let f: LicenceFixture;
let lic: StoredLicence;
const local = (url: string) => url.replace(f.deps.config.LICENCE_PUBLIC_URL, f.svc.url);

const SHARE = 'mutation ($id: ID!, $minutes: Int) { shareLicence(id: $id, minutes: $minutes) { url expiresAt } }';
const VIEW = 'query ($id: ID!) { licence(id: $id) { viewUrl } }';

beforeAll(async () => {
  f = await startLicenceFixture();
  lic = await issue(f);
}, 60_000);
afterAll(async () => { await f?.close(); });

describe('licence.presentation links', () => {
  test('viewUrl is given to the holder only; the page shows the licence, valid, with the ID number masked', async () => {
    const mine = await f.call<{ licence: { viewUrl: string | null } }>(person(HOLDER), VIEW, { id: lic.id });
    const url = mine.data!.licence.viewUrl!;
    expect(url.startsWith(`${f.deps.config.LICENCE_PUBLIC_URL}/licences/view/`)).toBe(true);
    expect((await f.call<{ licence: { viewUrl: string | null } }>(staffOf(HZ_SAMR.code), VIEW, { id: lic.id })).data?.licence.viewUrl).toBeNull();
    const res = await fetch(local(url));
    expect([res.status, res.headers.get('cache-control')]).toEqual([200, 'private, no-store']);
    const html = await res.text();
    expect(html).toContain('data-valid="true"');
    expect(html).toContain('330106********123X');
    expect(html).not.toContain(HOLDER.idNumber);
    expect(html).toContain('<img class="seal"');
  });

  test('the page shows the facts of the sealed licence it verified, not the stored row beside it', async () => {
    const other = await issue(f);
    await f.db.query('update licence.licences set holder_name = $2, issuer_name = $3 where id = $1', [other.id, '王五', '某某局']);
    const link = await signLink(f.deps.internalKey, { licenceId: other.id, purpose: 'view', minutes: 5, now: new Date() });
    const html = await (await fetch(`${f.svc.url}/licences/view/${link.token}`)).text();
    expect(html).toContain('data-valid="true"');
    expect(html).toContain(HOLDER.name);
    expect(html).toContain(HZ_SAMR.name);
    expect(html).not.toContain('王五');
    expect(html).not.toContain('某某局');
  });

  test('shareLicence: the holder only, 5 minutes to 7 days; anyone else NOT_FOUND or refused', async () => {
    const r = await f.call<{ shareLicence: { url: string; expiresAt: string } }>(person(HOLDER), SHARE, { id: lic.id, minutes: 30 });
    const minutes = (Date.parse(r.data!.shareLicence.expiresAt) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(29);
    expect(minutes).toBeLessThanOrEqual(30);
    const page = await (await fetch(local(r.data!.shareLicence.url))).text();
    expect(page).toContain('持证人分享的证照');
    expect(codeOf(await f.call(person(OTHER_HOLDER), SHARE, { id: lic.id }))).toBe('NOT_FOUND');
    expect(codeOf(await f.call(staffOf(HZ_SAMR.code), SHARE, { id: lic.id }))).toBe('FORBIDDEN');
    for (const m of [4, 7 * 24 * 60 + 1]) expect(codeOf(await f.call(person(HOLDER), SHARE, { id: lic.id, minutes: m }))).toBe('BAD_INPUT');
  });

  test('an expired, forged or other-key link is SHARE_LINK_INVALID (404) on the page, the PDF and the file', async () => {
    const expired = await signLink(f.deps.internalKey, { licenceId: lic.id, purpose: 'share', minutes: 5, now: new Date(Date.now() - 10 * 60_000) });
    const { internalKey } = await import('../../kernel/internal-auth.ts');
    const foreign = await signLink(internalKey('another-secret-0123456789abcdef-0123456789'), { licenceId: lic.id, purpose: 'share', minutes: 5, now: new Date() });
    for (const token of [expired.token, foreign.token, 'not-a-token']) {
      const page = await fetch(`${f.svc.url}/licences/view/${token}`);
      expect([page.status, await page.text()]).toEqual([404, expect.stringContaining('data-code="SHARE_LINK_INVALID"')]);
      for (const file of ['licence.pdf', 'licence.jws']) {
        const res = await fetch(`${f.svc.url}/licences/view/${token}/${file}`);
        expect([file, res.status, ((await res.json()) as { code: string }).code]).toEqual([file, 404, 'SHARE_LINK_INVALID']);
      }
    }
  });
});

describe('licence.presentation seal image', () => {
  const sealCert = () => loadCertificate(Buffer.from((JSON.parse(Buffer.from(lic.credential.split('.')[0]!, 'base64url').toString()) as { x5c: string[] }).x5c[0]!, 'base64'));
  const pageSeal = async () => {
    const link = await signLink(f.deps.internalKey, { licenceId: lic.id, purpose: 'view', minutes: 5, now: new Date() });
    const html = await (await fetch(`${f.svc.url}/licences/view/${link.token}`)).text();
    const b64 = /<img class="seal"[^>]*data-source="certificate"[^>]*src="data:image\/png;base64,([^"]+)"/.exec(html)?.[1];
    return { html, image: b64 ? Buffer.from(b64, 'base64') : null, token: link.token };
  };

  test('the agency seal has a stored PNG image whose SHA-256 its certificate carries; the page and PDF show that image', async () => {
    const digest = sealCert().profile.sealImageSha256;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    const { rows } = await f.db.query<{ seal_image: Uint8Array }>(`select seal_image from licence.certificates where role = 'seal' and agency_code = $1`, [HZ_SAMR.code]);
    const stored = Buffer.from(rows[0]!.seal_image);
    expect(stored.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(createHash('sha256').update(stored).digest('hex')).toBe(digest);
    const { image, token } = await pageSeal();
    expect(image).toEqual(stored);
    const pdf = Buffer.from(await (await fetch(`${f.svc.url}/licences/view/${token}/licence.pdf`)).arrayBuffer()).toString('latin1');
    expect(pdf.match(/\/Subtype \/Image/g)!.length).toBeGreaterThanOrEqual(2); // the QR code and the seal image (with its alpha mask)
  });

  test('a stored image that does not match the certificate\'s digest is never shown: the seal is drawn instead', async () => {
    const { rows } = await f.db.query<{ id: string; seal_image: Uint8Array }>(`select id, seal_image from licence.certificates where role = 'seal' and agency_code = $1`, [HZ_SAMR.code]);
    const original = Buffer.from(rows[0]!.seal_image);
    const { renderSealPng } = await import('./seal-image.ts');
    try {
      await f.db.query('update licence.certificates set seal_image = $2 where id = $1', [rows[0]!.id, renderSealPng('冒名机构', '伪造专用章')]);
      const { html, image } = await pageSeal();
      expect(image).toBeNull();
      expect(html).toContain('<svg class="seal"');
    } finally {
      await f.db.query('update licence.certificates set seal_image = $2 where id = $1', [rows[0]!.id, original]);
    }
    expect((await pageSeal()).image).toEqual(original);
  });
});

describe('licence.presentation files', () => {
  test('the PDF: A4, the Chinese font embedded as a subset, the QR image; the .jws verifies offline', async () => {
    const link = await signLink(f.deps.internalKey, { licenceId: lic.id, purpose: 'view', minutes: 5, now: new Date() });
    const res = await fetch(`${f.svc.url}/licences/view/${link.token}/licence.pdf`);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const pdf = Buffer.from(await res.arrayBuffer());
    const text = pdf.toString('latin1');
    expect(text.startsWith('%PDF-')).toBe(true);
    expect(text).toMatch(/\/BaseFont \/[A-Z]{6}\+NotoSansHans-Regular/);
    expect(text).toContain('/FontFile3');
    expect(text).toMatch(/\/Subtype \/Image/);
    expect(text).toContain('/MediaBox [0 0 595.28 841.89]');

    const jws = await (await fetch(`${f.svc.url}/licences/view/${link.token}/licence.jws`)).text();
    expect(jws).toBe(lic.credential);
    const bundle = await (await fetch(`${f.svc.url}/trust-bundle.pem`)).text();
    expect((await verifyLicence(jws, { trustAnchorsPem: readTrustBundle(bundle) })).valid).toBe(true);
  });

  test('the page\'s QR code decodes to the verify URL of this licence', async () => {
    const link = await signLink(f.deps.internalKey, { licenceId: lic.id, purpose: 'view', minutes: 5, now: new Date() });
    const html = await (await fetch(`${f.svc.url}/licences/view/${link.token}`)).text();
    const dataUrl = /<img class="qr"[^>]*src="data:image\/png;base64,([^"]+)"/.exec(html)![1]!;
    const text = decodeQrImage(Buffer.from(dataUrl, 'base64'));
    expect(text).toMatch(new RegExp(`^${f.deps.config.LICENCE_PUBLIC_URL}/verify\\?ref=${lic.id}\\.`));
    expect(await (await fetch(local(text))).text()).toContain('data-valid="true"');
  });
});
