import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ANONYMOUS, entitiesQuery } from '../../test/support/subgraph.ts';
import { readTrustBundle } from '../../seal/index.ts';
import { HOLDER, HZ_SAMR, OTHER_HOLDER, ZJ_SAMR, caseApproved, codeOf, issue, person, staffOf, startLicenceFixture, type LicenceFixture, type StoredLicence } from '../../test/support/licence.ts';

let f: LicenceFixture;
let mine: StoredLicence;
let theirs: StoredLicence;
beforeAll(async () => {
  f = await startLicenceFixture();
  mine = await issue(f, caseApproved());
  theirs = await issue(f, caseApproved({ holder: OTHER_HOLDER }));
});
afterAll(async () => { await f.close(); });

const FIELDS = 'id identifier typeCode typeName number holderName holderCodeMasked issuerName issuerCode issuedAt validFrom validUntil caseId credential';
const LICENCE = `query ($id: ID!) { licence(id: $id) { ${FIELDS} } }`;

describe('licence.graph', () => {
  test('myLicences: the holder\'s licences with the ID number masked (R-LI-4, R-ID-11)', async () => {
    const r = await f.call<{ myLicences: Array<Record<string, unknown>> }>(person(HOLDER), `{ myLicences { ${FIELDS} } }`);
    expect(r.data!.myLicences).toEqual([{
      id: mine.id, identifier: mine.identifier, typeCode: '11100000MB0000010Q001', typeName: '食品经营许可证', number: mine.number,
      holderName: HOLDER.name, holderCodeMasked: '330106********123X', issuerName: HZ_SAMR.name, issuerCode: HZ_SAMR.code,
      issuedAt: expect.any(String), validFrom: expect.any(String), validUntil: expect.any(String), caseId: mine.case_id, credential: mine.credential,
    }]);
    expect(codeOf(await f.call(ANONYMOUS, '{ myLicences { id } }'))).toBe('UNAUTHENTICATED');
    expect(codeOf(await f.call(staffOf(HZ_SAMR.code), '{ myLicences { id } }'))).toBe('FORBIDDEN');
  });

  test('licence(id): the holder and staff of the issuing agency; anyone else null', async () => {
    const id = mine.id;
    expect((await f.call<{ licence: { id: string } }>(person(HOLDER), LICENCE, { id })).data!.licence.id).toBe(id);
    expect((await f.call<{ licence: { id: string } }>(staffOf(HZ_SAMR.code), LICENCE, { id })).data!.licence.id).toBe(id);
    for (const other of [person(OTHER_HOLDER), staffOf(ZJ_SAMR.code), ANONYMOUS]) {
      const r = await f.call<{ licence: unknown }>(other, LICENCE, { id });
      expect(r.errors).toBeUndefined();
      expect(r.data!.licence).toBeNull();
    }
    expect((await f.call<{ licence: unknown }>(person(HOLDER), LICENCE, { id: randomUUID() })).data!.licence).toBeNull();
    expect((await f.call<{ licence: unknown }>(person(HOLDER), LICENCE, { id: 'x' })).data!.licence).toBeNull();
  });

  test('Case.licences and Licence entities follow the same visibility', async () => {
    const q = entitiesQuery('... on Case { id licences { id } } ... on Licence { id }');
    const representations = [
      { __typename: 'Case', id: mine.case_id }, { __typename: 'Case', id: theirs.case_id },
      { __typename: 'Licence', id: mine.id }, { __typename: 'Licence', id: theirs.id },
    ];
    const asHolder = await f.call<{ _entities: unknown[] }>(person(HOLDER), q, { representations });
    expect(asHolder.data!._entities).toEqual([
      { id: mine.case_id, licences: [{ id: mine.id }] }, { id: theirs.case_id, licences: [] }, { id: mine.id }, null,
    ]);
    const asStaff = await f.call<{ _entities: unknown[] }>(staffOf(HZ_SAMR.code), q, { representations });
    expect(asStaff.data!._entities).toEqual([
      { id: mine.case_id, licences: [{ id: mine.id }] }, { id: theirs.case_id, licences: [{ id: theirs.id }] }, { id: mine.id }, { id: theirs.id },
    ]);
  });
});

describe('licence.http', () => {
  const verify = (body: unknown, type = 'application/json') =>
    fetch(`${f.svc.url}/verify`, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  test('GET /trust-bundle.pem serves the root, the same one written to DATA_DIR for the CLI', async () => {
    const res = await fetch(`${f.svc.url}/trust-bundle.pem`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-pem-file');
    const pem = await res.text();
    expect(readTrustBundle(pem)).toHaveLength(1);
    expect(pem).toBe(readFileSync(join(f.dataDir, 'trust-bundle.pem'), 'utf8'));
    const root = (await f.db.query<{ cert_pem: string }>(`select cert_pem from licence.certificates where role = 'root'`)).rows[0]!;
    expect(pem).toBe(root.cert_pem);
  });

  test('POST /verify: a genuine licence is valid, with the holder\'s ID number masked', async () => {
    const res = await verify({ credential: mine.credential });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      valid: true, reason: null, message: null,
      licence: {
        identifier: mine.identifier, typeCode: '11100000MB0000010Q001', typeName: '食品经营许可证', number: mine.number,
        holderName: HOLDER.name, holderCodeMasked: '330106********123X', issuerName: HZ_SAMR.name, issuerCode: HZ_SAMR.code,
        issueDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), jurisdiction: '330100',
        validFrom: expect.any(String), validUntil: expect.any(String), signedAt: expect.any(String), timestamped: true,
      },
    });
  });

  test('POST /verify: a tampered licence is invalid (LICENCE_BAD_SIGNATURE)', async () => {
    const [h, p, s] = mine.credential.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { credentialSubject: { licence: { holderName: string } } };
    claims.credentialSubject.licence.holderName = '王五';
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    const res = await verify({ credential: forged });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ valid: false, reason: 'LICENCE_BAD_SIGNATURE', licence: null });
    expect(await (await verify({ credential: 'not.a.jws' })).json()).toMatchObject({ valid: false, reason: 'LICENCE_MALFORMED' });
  });

  test('POST /verify without a credential, or with a body that is not JSON → 400 problem+json BAD_INPUT', async () => {
    for (const res of [await verify({}), await verify({ credential: 42 }), await verify('{oops')]) {
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({ code: 'BAD_INPUT' });
    }
  });

  test('POST /verify with an oversized body → 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await verify({ credential: 'x'.repeat(200 * 1024) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  test('/healthz reports the database, the cache and the event loops', async () => {
    const res = await fetch(`${f.svc.url}/healthz`);
    expect(await res.json()).toEqual({ service: 'licence', status: 'ok', checks: { db: 'ok', cache: 'ok', events: 'ok' } });
  });
});
