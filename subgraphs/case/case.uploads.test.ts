import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localStorage } from './materials/storage.ts';
import { sniff } from './materials/sniff.ts';
import { MAX_MATERIAL_ROWS } from './materials/upload-limits.ts';
import { FOOD_ITEM, citizen, codeOf, feedItems, startCaseFixture, submitFull, type CaseFixture } from '../../test/support/case.ts';

let f: CaseFixture;
beforeAll(async () => {
  f = await startCaseFixture(undefined, { storage: localStorage(mkdtempSync(join(tmpdir(), 'yw-up-test-'))) });
  await feedItems(f, [FOOD_ITEM]);
});
afterAll(async () => { await f.close(); });

const PDF = Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');
const REQUEST = 'mutation ($c: ID!, $n: String!) { requestMaterialUpload(caseId: $c, name: $n) { url } }';
async function uploadUrl(caseId: string, name: string): Promise<string> {
  const r = await f.call<{ requestMaterialUpload: { url: string } }>(citizen(1), REQUEST, { c: caseId, n: name });
  if (!r.data?.requestMaterialUpload) throw new Error(String(codeOf(r)));
  return `${f.svc.url}${new URL(r.data.requestMaterialUpload.url).pathname}`;
}
const put = async (url: string, body: Buffer) => {
  const res = await fetch(url, { method: 'PUT', body });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
};
const rowCount = async (caseId: string) => (await f.db.query('select 1 from cases.case_materials where case_id = $1', [caseId])).rows.length;

describe('case.uploads', () => {
  test('sniff: bodies of 1–3 bytes and short ZIP headers are no accepted type (no exception)', () => {
    for (const b of [[0x25], [0xff, 0xd8], [0x50, 0x4b, 0x03], [0x50, 0x4b, 0x03, 0x04], [0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 0, 0]]) {
      expect(sniff(Buffer.from(b))).toBeNull();
    }
  });

  test('tiny or truncated bodies are MATERIAL_TYPE_REFUSED (415), not an internal error; nothing stored', async () => {
    const c = await submitFull(f, citizen(1), { itemId: FOOD_ITEM.id });
    const url = await uploadUrl(c.id, '身份证明');
    for (const b of [Buffer.from([0x50]), Buffer.from('PK\x03'), Buffer.from('PK\x03\x04\x14\x00\x00\x00', 'latin1')]) {
      expect(await put(url, b)).toMatchObject({ status: 415, body: { code: 'MATERIAL_TYPE_REFUSED' } });
    }
    expect(await rowCount(c.id)).toBe(0);
  });

  test('an upload address works once, also when replayed concurrently', async () => {
    const c = await submitFull(f, citizen(1), { itemId: FOOD_ITEM.id });
    const url = await uploadUrl(c.id, '营业执照');
    expect((await put(url, PDF)).status).toBe(201);
    expect((await put(url, PDF)).body).toMatchObject({ code: 'UPLOAD_TOKEN_INVALID' });
    expect(await rowCount(c.id)).toBe(1);

    const twice = await uploadUrl(c.id, '场所平面图');
    const both = await Promise.all([put(twice, PDF), put(twice, PDF)]);
    expect(both.map((r) => r.status).sort()).toEqual([201, 401]);
    expect(await rowCount(c.id)).toBe(2);
  });

  test(`a case holds at most ${MAX_MATERIAL_ROWS} material rows: MATERIAL_LIMIT_REACHED, nothing more stored`, async () => {
    const c = await submitFull(f, citizen(1), { itemId: FOOD_ITEM.id });
    const early = await uploadUrl(c.id, '早先地址'); // handed out before the case filled up
    await f.db.query(
      `insert into cases.case_materials (case_id, name, source, sha256, size, media_type, added_by, at)
       select $1, 'm' || g, 'UPLOAD', repeat('0', 64), 1, 'application/pdf', $2, now() from generate_series(1, $3::int) g`,
      [c.id, (citizen(1) as { sub: string }).sub, MAX_MATERIAL_ROWS - 1]);
    expect((await put(await uploadUrl(c.id, '最后一份'), PDF)).status).toBe(201);
    expect(await rowCount(c.id)).toBe(MAX_MATERIAL_ROWS);
    expect(codeOf(await f.call(citizen(1), REQUEST, { c: c.id, n: '再一份' }))).toBe('MATERIAL_LIMIT_REACHED');
    expect((await put(early, PDF)).body).toMatchObject({ code: 'MATERIAL_LIMIT_REACHED' });
    expect(await rowCount(c.id)).toBe(MAX_MATERIAL_ROWS);
  });
});
