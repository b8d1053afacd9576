import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { inflateSync } from 'node:zlib';
import jsqrModule from 'jsqr';
import { ANONYMOUS } from '../../test/support/subgraph.ts';
import { maskName } from './tracking/view.ts';
import { FOOD_ITEM, citizen, feedItems, must, staff, startCaseFixture, submitFull, type CaseFixture } from '../../test/support/case.ts';

// jsqr is CommonJS with a `default` property: Node hands the function itself, TypeScript the module.
type JsQr = typeof jsqrModule.default;
const jsQR: JsQr = (typeof jsqrModule === 'function' ? jsqrModule : jsqrModule.default) as JsQr;

let f: CaseFixture;
beforeAll(async () => {
  f = await startCaseFixture();
  await feedItems(f, [FOOD_ITEM]);
});
afterAll(async () => { await f.close(); });

const TRACK = `query ($n: String!, $code: String) { trackCase(caseNumber: $n, code: $code) {
  caseNumber itemName agencyName applicantMasked status statusLabel submittedAt deadlineAt finished steps { action status at } } }`;

/** The RGB image XObjects pdfkit wrote (a PNG with alpha becomes deflated RGB plus a soft mask). */
function pdfImages(pdf: Buffer): Array<{ width: number; height: number; rgba: Uint8ClampedArray }> {
  const text = pdf.toString('latin1');
  const out: Array<{ width: number; height: number; rgba: Uint8ClampedArray }> = [];
  const re = /<<([^]*?)>>\s*stream\r?\n/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const dict = m[1]!;
    if (!dict.includes('/Subtype /Image') || !dict.includes('/DeviceRGB')) continue;
    const width = Number(/\/Width (\d+)/.exec(dict)![1]), height = Number(/\/Height (\d+)/.exec(dict)![1]);
    const length = Number(/\/Length (\d+)/.exec(dict)![1]);
    const start = m.index + m[0].length;
    const rgb = inflateSync(pdf.subarray(start, start + length));
    const rgba = new Uint8ClampedArray(width * height * 4);
    for (let i = 0; i < width * height; i++) { rgba.set(rgb.subarray(i * 3, i * 3 + 3), i * 4); rgba[i * 4 + 3] = 255; }
    out.push({ width, height, rgba });
  }
  return out;
}

describe('case.tracking', () => {
  test('R-CA-6: the public view needs the receipt\'s code and shows only status and masked data', async () => {
    const c = await must(f, staff('acceptor'), (await submitFull(f, citizen(1), { itemId: FOOD_ITEM.id })).id, 'accept', { opinion: '内部意见不公开' });
    const { trackingCode } = (await f.call<{ case: { trackingCode: string } }>(citizen(1), `{ case(id: "${c.id}") { trackingCode } }`)).data!.case;
    expect(trackingCode).toMatch(/^[A-Z2-9]{10}$/);

    const pub = (await f.call<{ trackCase: Record<string, unknown> | null }>(ANONYMOUS, TRACK, { n: c.caseNumber, code: trackingCode.toLowerCase() })).data!.trackCase;
    expect(pub).toMatchObject({ caseNumber: c.caseNumber, applicantMasked: '申**1', status: 'ACCEPTED', finished: false, itemName: FOOD_ITEM.name });
    expect(JSON.stringify(pub)).not.toContain('内部意见不公开');
    expect(JSON.stringify(pub)).not.toContain('李受理');

    for (const code of [null, 'AAAAAAAAAA', trackingCode.slice(0, 9)]) {
      expect((await f.call<{ trackCase: unknown }>(ANONYMOUS, TRACK, { n: c.caseNumber, code })).data!.trackCase).toBeNull();
    }
    expect((await f.call<{ trackCase: unknown }>(ANONYMOUS, TRACK, { n: '330100209901010000001', code: trackingCode })).data!.trackCase).toBeNull();
    // The applicant and the agency's staff need no code; another applicant does.
    expect((await f.call<{ trackCase: unknown }>(citizen(1), TRACK, { n: c.caseNumber })).data!.trackCase).not.toBeNull();
    expect((await f.call<{ trackCase: unknown }>(staff('decider'), TRACK, { n: c.caseNumber })).data!.trackCase).not.toBeNull();
    expect((await f.call<{ trackCase: unknown }>(citizen(2), TRACK, { n: c.caseNumber })).data!.trackCase).toBeNull();

    // The same over plain HTTP (the QR code's address), JSON or a page; unknown and wrong answer alike.
    const ok = await fetch(`${f.svc.url}/track/${c.caseNumber}?code=${trackingCode}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ caseNumber: c.caseNumber, applicantMasked: '申**1' });
    const html = await (await fetch(`${f.svc.url}/track/${c.caseNumber}?code=${trackingCode}`, { headers: { accept: 'text/html' } })).text();
    expect(html).toContain('已受理');
    const bad = await fetch(`${f.svc.url}/track/${c.caseNumber}?code=WRONGWRONG`);
    const unknown = await fetch(`${f.svc.url}/track/330100209901019999?code=${trackingCode}`);
    expect([bad.status, unknown.status]).toEqual([404, 404]);
  });

  test('the acceptance receipt is a PDF whose QR code opens the public view', async () => {
    const s = await submitFull(f, citizen(3), { itemId: FOOD_ITEM.id });
    const before = (await f.call<{ case: { acceptanceReceipt: string | null } }>(citizen(3), `{ case(id: "${s.id}") { acceptanceReceipt } }`)).data!.case;
    expect(before.acceptanceReceipt).toBeNull();
    await must(f, staff('acceptor'), s.id, 'accept');
    const r = (await f.call<{ case: { acceptanceReceipt: string; trackingUrl: string } }>(citizen(3), `{ case(id: "${s.id}") { acceptanceReceipt trackingUrl } }`)).data!.case;
    const pdf = Buffer.from(r.acceptanceReceipt, 'base64');
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const qr = pdfImages(pdf).map((i) => jsQR(i.rgba, i.width, i.height)).find(Boolean);
    expect(qr?.data).toBe(r.trackingUrl);
    const path = new URL(qr!.data);
    const res = await fetch(`${f.svc.url}${path.pathname}${path.search}`);
    expect(await res.json()).toMatchObject({ caseNumber: s.caseNumber, status: 'ACCEPTED' });
  });

  test('names are masked', () => {
    expect([maskName('张三'), maskName('欧阳娜娜'), maskName('李'), maskName('王小明')]).toEqual(['张*', '欧**娜', '*', '王*明']);
  });
});
