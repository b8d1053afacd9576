/**
 * case.licence-checker: the case service's HTTP client of `POST /internal/licences/check` against
 * the real licence service (R-LI-2) — a real licence issued from a real
 * `case.approved`, a real service token, and the whole path from `useLicenceForMaterial` through
 * the item's material definition to the licence service and back.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { systemClock } from '../../kernel/clock.ts';
import { DEMO_LICENCE_TYPES } from '../../kernel/demo.ts';
import { internalKey } from '../../kernel/internal-auth.ts';
import type { Caller } from '../../kernel/internal-auth.ts';
import { caseApproved, HOLDER, issue, OTHER_HOLDER, startLicenceFixture, type LicenceFixture, type StoredLicence } from '../../test/support/licence.ts';
import { httpLicenceChecker, type LicenceChecker } from './materials/licence-checker.ts';
import { FOOD_ITEM, codeOf, feedItems, startCaseFixture, submitFull, type CaseFixture } from '../../test/support/case.ts';

let lf: LicenceFixture;
let cf: CaseFixture;
let checker: LicenceChecker;
let business: StoredLicence;
let food: StoredLicence;
const holder: Caller = { kind: 'person', sub: HOLDER.id, name: HOLDER.name };
const USE = 'mutation ($c: ID!, $m: String!, $l: ID) { useLicenceForMaterial(caseId: $c, materialCode: $m, licenceId: $l) { name source licenceIdentifier materialCode } }';

beforeAll(async () => {
  lf = await startLicenceFixture();
  business = await issue(lf, caseApproved({ licenceType: DEMO_LICENCE_TYPES.businessLicence }));
  food = await issue(lf, caseApproved());
  checker = httpLicenceChecker({ baseUrl: lf.svc.url, key: lf.deps.internalKey, clock: systemClock });
  cf = await startCaseFixture(undefined, { licenceChecker: checker });
  await feedItems(cf, [FOOD_ITEM]);
}, 60_000);
afterAll(async () => { await cf?.close(); await lf?.close(); });

describe('case.licence-checker against the real licence service', () => {
  test('the holder\'s licence of the asked type: ok with its facts; by id and by identifier', async () => {
    const typeCode = DEMO_LICENCE_TYPES.businessLicence.code;
    const byId = await checker.check({ licenceId: business.id, holderId: HOLDER.id, typeCode });
    expect(byId).toEqual({ ok: true, reason: null, message: null, licence: expect.objectContaining({ id: business.id, identifier: business.identifier, typeCode }) });
    expect((await checker.check({ identifier: business.identifier, holderId: HOLDER.id, typeCode })).ok).toBe(true);
  });

  test('another type, another holder: refused with the licence service\'s reason', async () => {
    expect(await checker.check({ licenceId: food.id, holderId: HOLDER.id, typeCode: DEMO_LICENCE_TYPES.businessLicence.code }))
      .toMatchObject({ ok: false, reason: 'LICENCE_CHECK_FAILED', licence: null });
    expect(await checker.check({ licenceId: business.id, holderId: OTHER_HOLDER.id })).toMatchObject({ ok: false, reason: 'NOT_FOUND', licence: null });
  });

  test('a malformed reference is BAD_INPUT; a token from another key or an unreachable service is SERVICE_UNAVAILABLE, never a pass', async () => {
    await expect(checker.check({ licenceId: 'not-a-uuid', holderId: HOLDER.id })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    const foreign = httpLicenceChecker({ baseUrl: lf.svc.url, key: internalKey('another-secret-0123456789abcdef-0123456789'), clock: systemClock });
    await expect(foreign.check({ licenceId: business.id, holderId: HOLDER.id })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    const down = httpLicenceChecker({ baseUrl: 'http://127.0.0.1:1', key: lf.deps.internalKey, clock: systemClock });
    await expect(down.check({ licenceId: business.id, holderId: HOLDER.id })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });

  test('end to end: the business licence replaces material M02 of the food item; the food licence does not', async () => {
    const c = await submitFull(cf, holder, { itemId: FOOD_ITEM.id });
    const wrong = await cf.call(holder, USE, { c: c.id, m: 'M02', l: food.id });
    expect(codeOf(wrong)).toBe('LICENCE_NOT_ACCEPTED');
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ details: { reason: 'LICENCE_CHECK_FAILED' } });
    const ok = await cf.call<{ useLicenceForMaterial: unknown }>(holder, USE, { c: c.id, m: 'M02', l: business.id });
    expect(ok.data?.useLicenceForMaterial).toEqual({ name: '营业执照', source: 'LICENCE', licenceIdentifier: business.identifier, materialCode: 'M02' });
    const rows = await cf.db.query<{ n: number }>('select count(*)::int as n from cases.case_materials where case_id = $1', [c.id]);
    expect(rows.rows[0]!.n).toBe(1);
  });
});
