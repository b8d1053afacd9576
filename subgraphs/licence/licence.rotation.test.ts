/**
 * licence.rotation: the service's seal certificates over the years, with a movable clock — a
 * licence issued late in its seal's life stays valid after that seal expires (the platform
 * timestamp), the agency gets a new seal for what it issues next, status lists are sealed with
 * the new one, and a licence past its own validUntil is LICENCE_EXPIRED.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { OffsetClock } from '../../kernel/clock.ts';
import { caseApproved, issue, startLicenceFixture, type LicenceFixture } from '../../test/support/licence.ts';

const YEAR = 365 * 24 * 3600_000;
const clock = new OffsetClock();
let f: LicenceFixture;

const verify = async (credential: string) => (await (await fetch(`${f.svc.url}/verify`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential }),
})).json()) as { valid: boolean; reason: string | null; licence: { timestamped: boolean } | null };
const seals = async () => (await f.db.query<{ id: string; not_after: Date }>(`select id, not_after from licence.certificates where role = 'seal' order by not_after`)).rows;
const issueNow = () => issue(f, { ...caseApproved(), approvedAt: clock.now().toISOString() });

beforeAll(async () => { f = await startLicenceFixture({ clock }); }, 60_000);
afterAll(async () => { await f?.close(); });

describe('licence.rotation', () => {
  test('after the seal expires: the late licence stays valid, the early one has expired, a new seal signs', async () => {
    const early = await issueNow();
    clock.offsetMs = 3 * YEAR;
    const late = await issueNow();
    expect(await seals()).toHaveLength(1); // the same seal, still valid

    clock.offsetMs = 5 * YEAR + 30 * 24 * 3600_000; // the seal (5 years) has expired; the late licence runs to year 8
    expect(await verify(late.credential)).toMatchObject({ valid: true, licence: { timestamped: true } });
    expect(await verify(early.credential)).toMatchObject({ valid: false, reason: 'LICENCE_EXPIRED' });

    const next = await issueNow();
    const all = await seals();
    expect(all).toHaveLength(2); // rotated: a new seal certificate for the agency
    expect((await f.db.query<{ seal_certificate_id: string }>('select seal_certificate_id from licence.licences where id = $1', [next.id])).rows[0]!.seal_certificate_id).toBe(all[1]!.id);
    expect((await verify(next.credential)).valid).toBe(true);
  });
});
