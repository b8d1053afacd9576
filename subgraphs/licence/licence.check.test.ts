/**
 * licence.check: the internal API the case service calls instead of an upload (R-LI-2)
 * — service token with audience urn:yiwang:licence, the licence must be the
 * holder's, of the asked type, and valid and unrevoked now.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { internalKey, signServiceToken } from '../../kernel/internal-auth.ts';
import { DEMO_LICENCE_TYPES } from '../../kernel/demo.ts';
import { LICENCE_AUDIENCE, type CheckAnswer } from './internal-check.ts';
import { HOLDER, HZ_SAMR, issue, OTHER_HOLDER, staffOf, startLicenceFixture, type LicenceFixture, type StoredLicence } from '../../test/support/licence.ts';

let f: LicenceFixture;
let lic: StoredLicence;

async function check(body: unknown, token?: string | null): Promise<{ status: number; body: CheckAnswer & { code?: string } }> {
  const t = token === undefined ? await signServiceToken(f.deps.internalKey, 'case', LICENCE_AUDIENCE) : token;
  const res = await fetch(`${f.svc.url}/internal/licences/check`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(t ? { authorization: `Bearer ${t}` } : {}) }, body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as CheckAnswer & { code?: string } };
}

beforeAll(async () => {
  f = await startLicenceFixture();
  lic = await issue(f);
}, 60_000);
afterAll(async () => { await f?.close(); });

describe('licence.check', () => {
  test('the holder\'s valid licence of the asked type: ok, with its facts (by id or by identifier)', async () => {
    const r = await check({ licenceId: lic.id, holderId: HOLDER.id, typeCode: DEMO_LICENCE_TYPES.foodBusiness.code });
    expect(r).toEqual({ status: 200, body: { ok: true, reason: null, message: null, licence: expect.objectContaining({
      id: lic.id, identifier: lic.identifier, typeCode: DEMO_LICENCE_TYPES.foodBusiness.code, number: lic.number, holderName: HOLDER.name, issuerCode: HZ_SAMR.code,
    }) } });
    expect((await check({ identifier: lic.identifier, holderId: HOLDER.id })).body.ok).toBe(true);
  });

  test('the facts answered are the sealed licence\'s, not the stored row beside it', async () => {
    const other = await issue(f);
    await f.db.query('update licence.licences set holder_name = $2, issuer_name = $3, number = $4 where id = $1', [other.id, '王五', '某某局', 'X-1']);
    const r = await check({ licenceId: other.id, holderId: HOLDER.id });
    expect(r.body.licence).toMatchObject({ holderName: HOLDER.name, issuerName: HZ_SAMR.name, number: other.number });
  });

  test('another holder, an unknown licence: NOT_FOUND alike; another type: LICENCE_CHECK_FAILED', async () => {
    expect((await check({ licenceId: lic.id, holderId: OTHER_HOLDER.id })).body).toMatchObject({ ok: false, reason: 'NOT_FOUND', licence: null });
    expect((await check({ licenceId: '00000000-0000-4000-8000-000000000000', holderId: HOLDER.id })).body).toMatchObject({ ok: false, reason: 'NOT_FOUND' });
    expect((await check({ licenceId: lic.id, holderId: HOLDER.id, typeCode: DEMO_LICENCE_TYPES.foodBusiness.code.replace(/1$/, '2') })).body)
      .toMatchObject({ ok: false, reason: 'LICENCE_CHECK_FAILED' });
  });

  test('a suspended or revoked licence is refused with the verifier\'s code', async () => {
    const other = await issue(f);
    const m = (name: string) => f.call(staffOf(HZ_SAMR.code), `mutation ($id: ID!) { ${name}(id: $id, reason: "核查") { state } }`, { id: other.id });
    await m('suspendLicence');
    expect((await check({ licenceId: other.id, holderId: HOLDER.id })).body).toMatchObject({ ok: false, reason: 'LICENCE_SUSPENDED' });
    await m('revokeLicence');
    expect((await check({ licenceId: other.id, holderId: HOLDER.id })).body).toMatchObject({ ok: false, reason: 'LICENCE_REVOKED' });
  });

  test('without a service token, or one for another audience or from another key: 401 UNAUTHENTICATED', async () => {
    const body = { licenceId: lic.id, holderId: HOLDER.id };
    expect(await check(body, null)).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    expect(await check(body, await signServiceToken(f.deps.internalKey, 'case', 'urn:yiwang:idp'))).toMatchObject({ status: 401 });
    expect(await check(body, await signServiceToken(internalKey('another-secret-0123456789abcdef-0123456789'), 'case', LICENCE_AUDIENCE))).toMatchObject({ status: 401 });
  });

  test('a malformed request is 400 BAD_INPUT: no reference, both references, no holder, a bad id', async () => {
    for (const body of [{ holderId: HOLDER.id }, { licenceId: lic.id, identifier: lic.identifier, holderId: HOLDER.id }, { licenceId: lic.id }, { licenceId: 'x', holderId: HOLDER.id }, { licenceId: lic.id, holderId: HOLDER.id, typeCode: '' }]) {
      expect(await check(body)).toMatchObject({ status: 400, body: { code: 'BAD_INPUT' } });
    }
  });
});
