import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localStorage } from './materials/storage.ts';
import { seedReplica } from './service.ts';
import { sniff } from './materials/sniff.ts';
import type { LicenceCheckRequest } from './materials/licence-checker.ts';
import {
  FOOD_ITEM, ITEMS_STREAM, citizen, codeOf, eventually, feedItems, itemPayload, must, staff, startCaseFixture, submitFull, type CaseFixture,
} from '../../test/support/case.ts';

const dir = mkdtempSync(join(tmpdir(), 'yw-mat-test-'));
const checks: LicenceCheckRequest[] = [];
let f: CaseFixture;
beforeAll(async () => {
  f = await startCaseFixture(undefined, {
    storage: localStorage(dir),
    licenceChecker: {
      check: async (r) => {
        checks.push(r);
        if (r.identifier === 'REVOKED-1') return { ok: false, reason: 'LICENCE_REVOKED', message: '证照已撤销', licence: null };
        // A licence service that ignored typeCode: the case service must still refuse the other type.
        const typeCode = r.identifier === 'OTHER-TYPE-1' ? 'T-OTHER' : r.typeCode ?? 'T';
        return { ok: true, reason: null, message: null, licence: { id: '0a1b2c3d-0000-4000-8000-000000000001', identifier: r.identifier ?? 'ID-1', typeCode, typeName: '营业执照' } };
      },
    },
  });
  await feedItems(f, [FOOD_ITEM]);
});
afterAll(async () => { await f.close(); });

const PDF = Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32)]);
const REQUEST = 'mutation ($c: ID!, $n: String!) { requestMaterialUpload(caseId: $c, name: $n) { url expiresAt maxBytes acceptedTypes } }';
const USE = 'mutation ($c: ID!, $m: String!, $i: String) { useLicenceForMaterial(caseId: $c, materialCode: $m, identifier: $i) { name source licenceIdentifier materialCode } }';
const MATERIALS = (id: string) => `{ case(id: "${id}") { materials { name source sha256 size mediaType licenceIdentifier downloadUrl } } }`;

/** The upload address, pointed at the test service (CASE_PUBLIC_URL is the default). */
async function uploadUrl(caseId: string, name: string, who = citizen(1)): Promise<string> {
  const r = await f.call<{ requestMaterialUpload: { url: string } }>(who, REQUEST, { c: caseId, n: name });
  if (!r.data?.requestMaterialUpload) throw new Error(String(codeOf(r)));
  const u = new URL(r.data.requestMaterialUpload.url);
  return `${f.svc.url}${u.pathname}`;
}
const put = async (url: string, body: Buffer) => {
  const res = await fetch(url, { method: 'PUT', body });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
};
const rowCount = async (caseId: string) => (await f.db.query('select 1 from cases.case_materials where case_id = $1', [caseId])).rows.length;

describe('case.materials', () => {
  test('upload: signed address, type by content, SHA-256 stored and checked, listed with a download address', async () => {
    const c = await submitFull(f, citizen(1), { itemId: FOOD_ITEM.id });
    const url = await uploadUrl(c.id, '营业执照');
    const r = await put(url, PDF);
    const sha = createHash('sha256').update(PDF).digest('hex');
    expect(r).toEqual({ status: 201, body: expect.objectContaining({ name: '营业执照', source: 'UPLOAD', sha256: sha, size: PDF.length, mediaType: 'application/pdf' }) });
    const list = (await f.call<{ case: { materials: Array<{ downloadUrl: string; sha256: string }> } }>(staff('acceptor'), MATERIALS(c.id))).data!.case.materials;
    expect(list).toHaveLength(1);
    const dl = new URL(list[0]!.downloadUrl);
    const got = await fetch(`${f.svc.url}${dl.pathname}`);
    expect(got.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await got.arrayBuffer())).toEqual(PDF);

    // A second upload under the same name supersedes the first (rows are append-only).
    expect((await put(await uploadUrl(c.id, '营业执照'), PNG)).status).toBe(201);
    const after = (await f.call<{ case: { materials: Array<{ mediaType: string }> } }>(citizen(1), MATERIALS(c.id))).data!.case.materials;
    expect(after.map((m) => m.mediaType)).toEqual(['image/png']);
    expect(await rowCount(c.id)).toBe(2);
  });

  test('limits: a refused type, an oversized body, a forged or reused-for-another-case token store nothing', async () => {
    const c = await submitFull(f, citizen(1), { itemId: FOOD_ITEM.id });
    const url = await uploadUrl(c.id, '身份证明');
    expect((await put(url, Buffer.from('MZ\x90\x00 not a document'))).body).toMatchObject({ code: 'MATERIAL_TYPE_REFUSED' });
    expect((await put(url, Buffer.from('hello.pdf'))).status).toBe(415);
    const big = Buffer.concat([PDF, Buffer.alloc(10 * 1024 * 1024)]);
    expect((await put(url, big)).body).toMatchObject({ code: 'MATERIAL_TOO_LARGE' });
    // Flip a character inside the signature (the last one may only carry padding bits).
    const forged = `${url.slice(0, -10)}${url.at(-10) === 'A' ? 'B' : 'A'}${url.slice(-9)}`;
    expect((await put(forged, PDF)).body).toMatchObject({ code: 'UPLOAD_TOKEN_INVALID' });
    expect(await rowCount(c.id)).toBe(0);
    // Only the applicant, only before acceptance.
    expect(codeOf(await f.call(citizen(2), REQUEST, { c: c.id, n: 'x' }))).toBe('CASE_NOT_FOUND');
    expect(codeOf(await f.call(staff('acceptor'), REQUEST, { c: c.id, n: 'x' }))).toBeDefined();
    await must(f, staff('acceptor'), c.id, 'accept');
    expect(codeOf(await f.call(citizen(1), REQUEST, { c: c.id, n: 'x' }))).toBe('MATERIAL_NOT_ALLOWED');
    expect((await put(url, PDF)).body).toMatchObject({ code: 'MATERIAL_NOT_ALLOWED' }); // an address handed out earlier
    expect(await rowCount(c.id)).toBe(0);
  });

  test('R-LI-2: a licence instead of the item\'s replaceable material, of the type the item names, checked for this applicant', async () => {
    const c = await submitFull(f, citizen(4), { itemId: FOOD_ITEM.id });
    const m02 = FOOD_ITEM.materials.find((m) => m.code === 'M02')!;
    const ok = await f.call<{ useLicenceForMaterial: Record<string, unknown> }>(citizen(4), USE, { c: c.id, m: 'M02', i: '91330100MA2XXXXXX1-001' });
    expect(ok.data?.useLicenceForMaterial).toEqual({ name: m02.name, source: 'LICENCE', licenceIdentifier: '91330100MA2XXXXXX1-001', materialCode: 'M02' });
    // The type comes from the item catalogue (replaceableByLicenceType), never from the applicant.
    expect(checks.at(-1)).toEqual({ holderId: (citizen(4) as { sub: string }).sub, identifier: '91330100MA2XXXXXX1-001', typeCode: m02.replaceableByLicenceType });
    const asked = checks.length;
    const refused = await f.call(citizen(4), USE, { c: c.id, m: 'M02', i: 'REVOKED-1' });
    expect(codeOf(refused)).toBe('LICENCE_NOT_ACCEPTED');
    expect(refused.errors?.[0]?.extensions).toMatchObject({ details: { reason: 'LICENCE_REVOKED' } });
    const otherType = await f.call(citizen(4), USE, { c: c.id, m: 'M02', i: 'OTHER-TYPE-1' });
    expect(codeOf(otherType)).toBe('LICENCE_NOT_ACCEPTED');
    expect(otherType.errors?.[0]?.extensions).toMatchObject({ details: { reason: 'LICENCE_CHECK_FAILED' } });
    // A material the item does not let a licence replace, or does not have: refused before any check.
    expect(codeOf(await f.call(citizen(4), USE, { c: c.id, m: 'M01', i: '91330100MA2XXXXXX1-001' }))).toBe('MATERIAL_NOT_REPLACEABLE');
    expect(codeOf(await f.call(citizen(4), USE, { c: c.id, m: 'M99', i: '91330100MA2XXXXXX1-001' }))).toBe('BAD_INPUT');
    expect(codeOf(await f.call(citizen(4), 'mutation ($c: ID!) { useLicenceForMaterial(caseId: $c, materialCode: "M02") { name } }', { c: c.id }))).toBe('BAD_INPUT');
    expect(checks.length).toBe(asked + 2);
    expect(await rowCount(c.id)).toBe(1);
  });

  test('R-LI-2: an item announced without its materials (older item service) lets no licence replace a material', async () => {
    const id = 'b0f7c1f2-0001-4000-8000-0000000000aa';
    await f.publish(ITEMS_STREAM, 'item.upserted', itemPayload(FOOD_ITEM, { id, materials: undefined }));
    await eventually(async () => (await f.db.query('select 1 from cases.items where id = $1', [id])).rows.length === 1);
    expect((await f.db.query<{ materials: unknown }>('select materials from cases.items where id = $1', [id])).rows[0]!.materials).toBeNull();
    const c = await submitFull(f, citizen(5), { itemId: id });
    const asked = checks.length;
    expect(codeOf(await f.call(citizen(5), USE, { c: c.id, m: 'M02', i: '91330100MA2XXXXXX1-001' }))).toBe('MATERIAL_NOT_REPLACEABLE');
    expect(checks.length).toBe(asked);
    expect(await rowCount(c.id)).toBe(0);
    // The replica stores what the event carries: the same item announced with materials replaces the gap.
    await f.publish(ITEMS_STREAM, 'item.upserted', itemPayload(FOOD_ITEM, { id }));
    await eventually(async () => (await f.db.query('select 1 from cases.items where id = $1 and materials is not null', [id])).rows.length === 1);
    expect(codeOf(await f.call(citizen(5), USE, { c: c.id, m: 'M02', i: '91330100MA2XXXXXX1-001' }))).toBeUndefined();
  });

  test('the demo seed fills a replica row\'s missing materials (rows from before migration 103), and overwrites nothing else', async () => {
    const materials = async () => (await f.db.query<{ materials: unknown }>('select materials from cases.items where id = $1', [FOOD_ITEM.id])).rows[0]!.materials;
    const announced = await materials();
    await f.db.query('update cases.items set materials = null where id = $1', [FOOD_ITEM.id]);
    await seedReplica(f.deps);
    expect(await materials()).toEqual(announced);
    await f.db.query(`update cases.items set materials = '[]' where id = $1`, [FOOD_ITEM.id]);
    await seedReplica(f.deps);
    expect(await materials()).toEqual([]);
    await f.db.query('update cases.items set materials = $2::jsonb where id = $1', [FOOD_ITEM.id, JSON.stringify(announced)]);
  });

  test('storage: content-addressed, idempotent, a corrupted file is refused on read', async () => {
    const s = localStorage(mkdtempSync(join(tmpdir(), 'yw-store-')));
    const sha = createHash('sha256').update(PDF).digest('hex');
    await s.put(sha, PDF);
    await s.put(sha, PDF);
    expect(await s.get(sha)).toEqual(PDF);
    await expect(s.put('0'.repeat(64), PDF)).rejects.toThrow(/checksum/);
    expect(await s.get('1'.repeat(64))).toBeNull();
    const d2 = mkdtempSync(join(tmpdir(), 'yw-store-'));
    const s2 = localStorage(d2);
    await s2.put(sha, PDF);
    writeFileSync(join(d2, sha.slice(0, 2), sha), Buffer.from('%PDF-tampered'));
    await expect(s2.get(sha)).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(readdirSync(join(d2, sha.slice(0, 2)))).toEqual([sha]); // no temporary files left
    expect([sniff(PDF), sniff(PNG), sniff(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0])), sniff(Buffer.from('text'))]).toEqual(['application/pdf', 'image/png', 'image/jpeg', null]);
  });
});
