import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Notice } from '../../kernel/notify.ts';
import {
  FOOD_ITEM, LICENCES_STREAM, citizen, eventually, feedItems, must, staff, startCaseFixture, submitFull, type CaseFixture,
} from '../../test/support/case.ts';

// The IdP is down for the first two lookups: the notice is retried, not lost.
let failures = 2;
const sent: Notice[] = [];
let f: CaseFixture;
beforeAll(async () => {
  f = await startCaseFixture(undefined, {
    contacts: { mobileOf: async (id) => { if (failures-- > 0) throw new Error('IdP down'); return id.endsWith('9') ? null : '13912345678'; } },
    notifier: { send: async (n) => { sent.push(n); } },
  });
  await feedItems(f, [FOOD_ITEM]);
});
afterAll(async () => { await f.close(); });

const acceptor = staff('acceptor'), decider = staff('decider');
const noticesFor = (caseNumber: string) => sent.filter((n) => n.params?.caseNumber === caseNumber);
const waitFor = (caseNumber: string, template: string) =>
  eventually(async () => noticesFor(caseNumber).find((n) => n.template === template));

describe('case.notify', () => {
  test('R-CA-3: accepted, then completed once the licence is issued; retried while the IdP is down', async () => {
    const c = await must(f, acceptor, (await submitFull(f, citizen(1), { itemId: FOOD_ITEM.id })).id, 'accept');
    const accepted = await waitFor(c.caseNumber, 'case.accepted');
    expect(accepted).toMatchObject({ to: '13912345678' });
    expect(accepted.text).toContain(c.caseNumber);
    await must(f, decider, c.id, 'approve');
    await f.publish(LICENCES_STREAM, 'licence.issued', { licenceId: 'l-1', identifier: 'X', caseId: c.id, holderId: 'h', issuedAt: new Date().toISOString() });
    const done = await waitFor(c.caseNumber, 'case.completed');
    expect(done.text).toMatch(/已办结：准予许可/);
    await new Promise((r) => setTimeout(r, 500));
    expect(noticesFor(c.caseNumber).map((n) => n.template)).toEqual(['case.accepted', 'case.completed']); // once each
  });

  test('rejected with the reason; supplement listing every missing material', async () => {
    const r = await must(f, acceptor, (await submitFull(f, citizen(2), { itemId: FOOD_ITEM.id })).id, 'reject', { opinion: '不属于本机关职权范围' });
    expect((await waitFor(r.caseNumber, 'case.rejected')).text).toContain('理由：不属于本机关职权范围');
    const s = await must(f, acceptor, (await submitFull(f, citizen(2), { itemId: FOOD_ITEM.id })).id, 'requestSupplement', { input: { missingMaterials: ['营业执照副本', '场所平面图'] } });
    const n = await waitFor(s.caseNumber, 'case.supplement');
    expect(n.text).toContain('营业执照副本；场所平面图');
    expect(n.params).toMatchObject({ materials: '营业执照副本；场所平面图' });
  });

  test('an applicant without a mobile number gets no SMS, and the event is not retried forever', async () => {
    const c = await must(f, acceptor, (await submitFull(f, citizen(9), { itemId: FOOD_ITEM.id })).id, 'accept');
    await eventually(async () => (await f.db.query(`select 1 from cases.processed_events where consumer = 'case-notices' and event_id in
      (select id from cases.outbox where payload->>'caseId' = $1)`, [c.id])).rows.length > 0);
    expect(noticesFor(c.caseNumber)).toEqual([]);
  });
});
