import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { StreamMessage } from '../../kernel/cache.ts';
import {
  CASES_STREAM, FOOD_ITEM, HR_ITEM, caseAction, eventually, citizen, codeOf, feedItems, must, staff, startCaseFixture, submitFull,
  type CaseFixture, type CaseView,
} from '../../test/support/case.ts';
import { createCalendar } from '../../kernel/calendar.ts';

let f: CaseFixture;
const calendar = createCalendar();
beforeAll(async () => {
  f = await startCaseFixture();
  await feedItems(f);
});
afterAll(async () => { await f.close(); });

const acceptor = staff('acceptor'), reviewer = staff('reviewer'), decider = staff('decider'), receiver = staff('receiver');
const stored = async (id: string) =>
  (await f.db.query<{ status: string; version: number; visits: number }>('select status, version, visits from cases.cases where id = $1', [id])).rows[0]!;
const steps = async (id: string) => (await f.db.query<{ n: number }>('select count(*)::int as n from cases.case_steps where case_id = $1', [id])).rows[0]!.n;
/** Every message of the cases stream so far (each f.read returns only what is new). */
const seen: StreamMessage[] = [];
const stream = async () => { seen.push(...await f.read(CASES_STREAM)); return seen; };
const published = (type: string, caseId: string) =>
  eventually(async () => (await stream()).find((m) => m.fields.type === type && m.fields.payload!.includes(caseId)));
const details = (c: CaseView) => JSON.parse(c.steps.at(-1)!.details ?? 'null') as Record<string, unknown>;

async function acceptedCase(who = citizen(1), extra: Record<string, unknown> = {}): Promise<CaseView> {
  const c = await submitFull(f, who, { itemId: FOOD_ITEM.id, ...extra });
  return must(f, acceptor, c.id, 'accept');
}

describe('case.applying.modes', () => {
  test('R-CA-2: visits are recorded and refused beyond the mode\'s maximum; nothing is stored', async () => {
    for (const [mode, max] of [['ONLINE', 0], ['PICKUP_VERIFY', 1], ['PRE_REVIEW', 2]] as const) {
      const c = await submitFull(f, citizen(1), { itemId: FOOD_ITEM.id, mode });
      expect(c).toMatchObject({ mode, visits: 0, maxVisits: max, workflowId: 'promised' });
      for (let i = 1; i <= max; i++) expect(await must(f, receiver, c.id, 'visit')).toMatchObject({ visits: i, status: 'SUBMITTED' });
      const before = await stored(c.id);
      expect((await caseAction(f, receiver, c.id, 'visit')).code).toBe('VISITS_EXCEEDED');
      expect(await stored(c.id)).toEqual(before);
    }
    expect(codeOf(await f.call(citizen(1), 'mutation { submitCase(input: { itemId: "x", mode: SOMETIMES }) { id } }'))).toBe('GRAPHQL_VALIDATION_FAILED'); // not in the enum
  });
});

describe('case.applying.supplement', () => {
  test('R-CA-4: one notice listing every missing material; the clock pauses; the applicant supplements', async () => {
    const c = await submitFull(f, citizen(3), { itemId: FOOD_ITEM.id });
    expect(c.deadlineAt).not.toBeNull(); // 5 working days to accept or ask for a supplement
    expect((await caseAction(f, acceptor, c.id, 'requestSupplement', { input: { missingMaterials: ['  '] } })).code).toBe('BAD_INPUT');
    expect((await caseAction(f, reviewer, c.id, 'requestSupplement', { input: { missingMaterials: ['营业执照'] } })).code).toBe('ROLE_REQUIRED');
    expect(await stored(c.id)).toMatchObject({ status: 'SUBMITTED', version: 1 });

    const s = await must(f, acceptor, c.id, 'requestSupplement', { input: { missingMaterials: ['营业执照副本', '场所平面图'] } });
    expect(s).toMatchObject({ status: 'SUPPLEMENT_REQUESTED', supplementMaterials: ['营业执照副本', '场所平面图'] });
    expect(s.pausedAt).not.toBeNull();
    expect(details(s)).toMatchObject({ missingMaterials: ['营业执照副本', '场所平面图'] });

    // Only the case's own applicant supplements; another applicant learns nothing.
    expect((await caseAction(f, citizen(4), c.id, 'supplement')).code).toBe('CASE_NOT_FOUND');
    expect((await caseAction(f, acceptor, c.id, 'supplement')).code).toBe('ROLE_REQUIRED');
    const back = await must(f, citizen(3), c.id, 'supplement', { opinion: '已补正' });
    // Art. 32(4): a new 5-working-day acceptance period from the receipt of the complete materials.
    expect(back).toMatchObject({ status: 'SUBMITTED', pausedAt: null, deadlineAt: calendar.addWorkingDays(new Date(back.steps.at(-1)!.at), 5).toISOString() });

    // Given once: a second request is refused, nothing stored.
    const n = await steps(c.id);
    expect((await caseAction(f, acceptor, c.id, 'requestSupplement', { input: { missingMaterials: ['又一份'] } })).code).toBe('SUPPLEMENT_ALREADY_REQUESTED');
    expect(await steps(c.id)).toBe(n);
    const notice = await published('case.supplementRequested', c.id);
    expect(JSON.parse(notice!.fields.payload!)).toMatchObject({ caseNumber: c.caseNumber, missingMaterials: ['营业执照副本', '场所平面图'] });
  });
});

describe('case.applying.review', () => {
  test('R-CA-7: review methods are recorded; an unknown one is BAD_INPUT', async () => {
    const c = await acceptedCase();
    expect((await caseAction(f, reviewer, c.id, 'review', { input: {} })).code).toBe('BAD_INPUT');
    const r = await must(f, reviewer, c.id, 'review', { opinion: '现场核查符合', input: { method: 'ON_SITE' } });
    expect(r.status).toBe('ACCEPTED');
    expect(r.steps.at(-1)).toMatchObject({ action: 'review', handlerId: (reviewer as { sub: string }).sub, opinion: '现场核查符合' });
    expect(details(r)).toEqual({ method: 'ON_SITE' });
  });

  test('special procedures pause the clock; ending one resumes it', async () => {
    const c = await acceptedCase();
    expect((await caseAction(f, reviewer, c.id, 'startProcedure', { input: {} })).code).toBe('BAD_INPUT');
    expect((await caseAction(f, reviewer, c.id, 'startProcedure', { input: { procedure: 'WRITTEN' } })).code).toBe('BAD_USER_INPUT'); // not in the enum
    const p = await must(f, reviewer, c.id, 'startProcedure', { input: { procedure: 'HEARING' } });
    expect(p).toMatchObject({ status: 'SUSPENDED', deadlineAt: c.deadlineAt });
    expect(p.pausedAt).not.toBeNull();
    expect((await caseAction(f, decider, c.id, 'approve')).code).toBe('CASE_TRANSITION_INVALID');
    const back = await must(f, reviewer, c.id, 'endProcedure');
    expect(back).toMatchObject({ status: 'ACCEPTED', pausedAt: null });
    expect(back.deadlineAt).toBe(c.deadlineAt); // resumed the same moment: no working day lost, the same deadline
  });

  test('extension: requested with a reason, then approved by a decider; the deadline moves', async () => {
    const c = await acceptedCase();
    expect((await caseAction(f, decider, c.id, 'approveExtension')).code).toBe('EXTENSION_NOT_REQUESTED');
    expect((await caseAction(f, reviewer, c.id, 'requestExtension', { input: { extensionDays: 5 } })).code).toBe('BAD_INPUT'); // no reason
    expect((await caseAction(f, reviewer, c.id, 'requestExtension', { opinion: '需检测', input: { extensionDays: 99 } })).code).toBe('BAD_INPUT');
    // Administrative Licensing Law art. 42: +10 working days at most (15 only for joint handling).
    const tooLong = await caseAction(f, reviewer, c.id, 'requestExtension', { opinion: '需检测', input: { extensionDays: 11 } });
    expect(tooLong.code).toBe('BAD_INPUT');
    expect((await stored(c.id)).version).toBe(c.version);
    const r = await must(f, reviewer, c.id, 'requestExtension', { opinion: '需现场检测', input: { extensionDays: 10 } });
    expect(r).toMatchObject({ extensionRequested: 10, deadlineAt: c.deadlineAt });
    expect((await caseAction(f, reviewer, c.id, 'approveExtension')).code).toBe('ROLE_REQUIRED');
    const a = await must(f, decider, c.id, 'approveExtension');
    expect(a).toMatchObject({ extensionRequested: null, extensionDays: 10 });
    expect(a.deadlineAt).toBe(calendar.addWorkingDays(new Date(c.deadlineAt!), 10).toISOString());
    expect(details(a)).toMatchObject({ extensionDays: 10, deadlineAt: a.deadlineAt });
    // The 10 days are used up: no second extension.
    expect((await caseAction(f, reviewer, c.id, 'requestExtension', { opinion: '再延期', input: { extensionDays: 1 } })).code).toBe('BAD_INPUT');
  });
});

describe('case.applying.decision', () => {
  test('deny: a decider, with a reason; outcome 1 (R-CA-10) and case.completed carries the reason', async () => {
    const c = await acceptedCase(citizen(5));
    expect((await caseAction(f, decider, c.id, 'deny')).code).toBe('BAD_INPUT');
    const d = await must(f, decider, c.id, 'deny', { opinion: '经营场所不符合要求' });
    expect(d).toMatchObject({ status: 'COMPLETED', outcomeCode: '1' });
    expect(d.availableActions).toContain('deliver');
    expect(d.availableActions).not.toContain('approve');
    const done = await published('case.completed', c.id);
    expect(JSON.parse(done!.fields.payload!)).toMatchObject({ outcomeCode: '1', reason: '经营场所不符合要求' });
    // R-EV-5: what the agency rankings count comes with the completion.
    expect(JSON.parse(done!.fields.payload!)).toMatchObject({ mode: 'ONLINE', visits: 0, overdue: false });
    expect(typeof JSON.parse(done!.fields.payload!).submittedAt).toBe('string');
  });

  test('R-CA-10: void (作废, 2), delete (删除, 3) and forward (转报, 4) end a case, each by its role, with a reason', async () => {
    const cases: Array<[string, 'acceptor' | 'decider', string, CaseView]> = [
      ['voidCase', 'decider', '2', await acceptedCase(citizen(11))],
      ['deleteCase', 'acceptor', '3', await submitFull(f, citizen(12), { itemId: FOOD_ITEM.id })],
      ['forward', 'decider', '4', await acceptedCase(citizen(13))],
    ];
    for (const [action, role, code, c] of cases) {
      const other = role === 'decider' ? acceptor : decider;
      expect((await caseAction(f, other, c.id, action, { opinion: '理由' })).code).toBe('ROLE_REQUIRED');
      expect((await caseAction(f, citizen(11), c.id, action, { opinion: '理由' })).code).toBe('ROLE_REQUIRED');
      expect((await caseAction(f, staff(role), c.id, action)).code).toBe('BAD_INPUT'); // reason required
      expect(await stored(c.id)).toMatchObject({ status: c.status, version: c.version }); // nothing stored
      const reason = `${action}：理由`;
      const done = await must(f, staff(role), c.id, action, { opinion: reason });
      expect(done).toMatchObject({ status: 'COMPLETED', outcomeCode: code });
      expect((await caseAction(f, staff(role), c.id, action, { opinion: reason })).code).toBe('CASE_TRANSITION_INVALID');
      const ev = await published('case.completed', c.id);
      expect(JSON.parse(ev!.fields.payload!)).toMatchObject({ outcomeCode: code, reason });
    }
    // Deleting is for submissions not yet accepted; forwarding for accepted ones.
    const acc = await acceptedCase(citizen(14));
    expect((await caseAction(f, acceptor, acc.id, 'deleteCase', { opinion: '重复' })).code).toBe('CASE_TRANSITION_INVALID');
    const sub = await submitFull(f, citizen(15), { itemId: FOOD_ITEM.id });
    expect((await caseAction(f, decider, sub.id, 'forward', { opinion: '报省厅' })).code).toBe('CASE_TRANSITION_INVALID');
  });

  test('withdraw: the applicant only, before the decision; outcome 5 (R-CA-10)', async () => {
    const c = await acceptedCase(citizen(5));
    expect((await caseAction(f, citizen(6), c.id, 'withdraw')).code).toBe('CASE_NOT_FOUND');
    expect((await caseAction(f, decider, c.id, 'withdraw')).code).toBe('ROLE_REQUIRED');
    const w = await must(f, citizen(5), c.id, 'withdraw', { opinion: '不再需要' });
    expect(w).toMatchObject({ status: 'COMPLETED', outcomeCode: '5' });
    expect((await caseAction(f, citizen(5), c.id, 'withdraw')).code).toBe('CASE_TRANSITION_INVALID');
    // R-CA-11: each step has its start (the previous step's end) and end.
    const steps = (await f.call<{ case: { steps: Array<{ action: string; startedAt: string; at: string }> } }>(citizen(5), `{ case(id: "${c.id}") { steps { action startedAt at } } }`)).data!.case.steps;
    expect(steps.map((s) => s.action)).toEqual(['submit', 'accept', 'withdraw']);
    expect(steps[2]!.startedAt).toBe(steps[1]!.at);
    expect(steps[0]!.startedAt).toBe(steps[0]!.at);
  });

  test('no transition outside the workflow: unknown actions, system actions, final states', async () => {
    const c = await acceptedCase();
    expect((await caseAction(f, decider, c.id, 'teleport')).code).toBe('BAD_INPUT');
    expect((await caseAction(f, decider, c.id, 'complete')).code).toBe('ROLE_REQUIRED'); // the system's, on licence.issued
    expect((await caseAction(f, acceptor, c.id, 'accept')).code).toBe('CASE_TRANSITION_INVALID');
    const hr = await submitFull(f, citizen(1), { itemId: HR_ITEM.id }); // 即办 (instant): no special procedures
    expect(hr.workflowId).toBe('instant');
    const acc = await must(f, staff('acceptor', HR_ITEM.agencyCode), hr.id, 'accept');
    expect((await caseAction(f, staff('reviewer', HR_ITEM.agencyCode), hr.id, 'startProcedure', { input: { procedure: 'HEARING' } })).code).toBe('CASE_TRANSITION_INVALID');
    // 即办: the acceptor decides on the spot; no licence type, so the decision completes it.
    expect(await must(f, staff('acceptor', HR_ITEM.agencyCode), hr.id, 'approve', { version: acc.version })).toMatchObject({ status: 'COMPLETED', outcomeCode: '0' });
  });
});

describe('case.applying.delivery', () => {
  test('pickup, or post with a tracking number from the logistics interface; delivered once', async () => {
    const post = await must(f, decider, (await acceptedCase(citizen(6))).id, 'deny', { opinion: '不符合' });
    expect((await caseAction(f, receiver, post.id, 'deliver', { input: { delivery: { method: 'POST' } } })).code).toBe('BAD_INPUT'); // no address
    const d = await must(f, receiver, post.id, 'deliver', { input: { delivery: { method: 'POST', address: '杭州市西湖区文三路1号' } } });
    expect(d.status).toBe('COMPLETED');
    expect(d.delivery).toMatchObject({ method: 'POST', carrier: 'local', trackingNumber: expect.stringMatching(/^YW\d{9}CN$/) });
    expect((await caseAction(f, receiver, post.id, 'deliver', { input: { delivery: { method: 'PICKUP' } } })).code).toBe('CASE_TRANSITION_INVALID');

    const pick = await must(f, decider, (await acceptedCase(citizen(6))).id, 'deny', { opinion: '不符合' });
    expect((await must(f, receiver, pick.id, 'deliver', { input: { delivery: { method: 'PICKUP' } } })).delivery).toMatchObject({ method: 'PICKUP', trackingNumber: null });
    // Delivering does not announce a second completion.
    await published('case.completed', pick.id);
    await new Promise((r) => setTimeout(r, 300)); // a second one would be published by now
    const completions = (await stream()).filter((m) => m.fields.type === 'case.completed' && m.fields.payload!.includes(pick.id));
    expect(completions).toHaveLength(1);
  });
});

describe('case.applying.delivery-carrier', () => {
  test('the carrier is called outside the transaction, only after the checks pass; its failure stores nothing', async () => {
    const calls: string[] = [];
    let down = true;
    const g = await startCaseFixture(undefined, {
      logistics: { ship: async (o) => { calls.push(o.caseNumber); if (down) throw new Error('carrier down'); return { carrier: 'ems', trackingNumber: 'EM000000001CN' }; } },
    });
    try {
      await feedItems(g, [FOOD_ITEM]);
      const c = await submitFull(g, citizen(1), { itemId: FOOD_ITEM.id });
      const done = await must(g, decider, (await must(g, acceptor, c.id, 'accept')).id, 'deny', { opinion: '不符合' });
      const post = { input: { delivery: { method: 'POST', address: '杭州市' } } };
      expect((await caseAction(g, staff('receiver', HR_ITEM.agencyCode), done.id, 'deliver', post)).code).toBe('ROLE_REQUIRED');
      expect((await caseAction(g, receiver, done.id, 'deliver', { input: { delivery: { method: 'POST' } } })).code).toBe('BAD_INPUT');
      expect(calls).toEqual([]); // refused before the carrier was asked
      expect((await caseAction(g, receiver, done.id, 'deliver', post)).code).toBe('INTERNAL');
      expect((await g.db.query('select delivery from cases.cases where id = $1', [done.id])).rows[0]).toEqual({ delivery: null });
      down = false;
      expect((await must(g, receiver, done.id, 'deliver', post)).delivery).toMatchObject({ carrier: 'ems', trackingNumber: 'EM000000001CN' });
      expect(calls).toEqual([done.caseNumber, done.caseNumber]);
    } finally {
      await g.close();
    }
  });
});

describe('case.applying.idempotence', () => {
  test('a retried action with its idempotency key is answered, not applied twice; anything else is refused', async () => {
    const c = await submitFull(f, citizen(8), { itemId: FOOD_ITEM.id });
    const first = await must(f, acceptor, c.id, 'requestSupplement', { version: 1, idempotencyKey: 'k-1', input: { missingMaterials: ['A'] } });
    const again = await must(f, acceptor, c.id, 'requestSupplement', { version: 1, idempotencyKey: 'k-1', input: { missingMaterials: ['A'] } });
    expect(again).toMatchObject({ status: 'SUPPLEMENT_REQUESTED', version: first.version });
    expect(again.steps.filter((s) => s.action === 'requestSupplement')).toHaveLength(1);
    expect((await caseAction(f, acceptor, c.id, 'requestSupplement', { version: 1, idempotencyKey: 'k-2', input: { missingMaterials: ['A'] } })).code).toBe('CONFLICT');
    expect((await caseAction(f, staff('acceptor', HR_ITEM.agencyCode), c.id, 'requestSupplement', { version: 1, idempotencyKey: 'k-1' })).code).toBe('ROLE_REQUIRED');
    expect((await caseAction(f, acceptor, c.id, 'requestSupplement', { idempotencyKey: ' ' })).code).toBe('BAD_INPUT');
    await must(f, citizen(8), c.id, 'supplement');
    // Once something else happened, the old key no longer replays.
    expect((await caseAction(f, acceptor, c.id, 'requestSupplement', { version: 1, idempotencyKey: 'k-1' })).code).toBe('CONFLICT');
    await published('case.supplementRequested', c.id);
    await new Promise((r) => setTimeout(r, 300));
    const notices = (await stream()).filter((m) => m.fields.type === 'case.supplementRequested' && m.fields.payload!.includes(c.id));
    expect(notices).toHaveLength(1);
  });
});

describe('case.applying.queue', () => {
  test('work queues by agency and role: what each role can move on, most urgent first', async () => {
    const sub = await submitFull(f, citizen(7), { itemId: FOOD_ITEM.id });
    const acc = await acceptedCase(citizen(7));
    const q = async (caller: ReturnType<typeof staff>) =>
      ((await f.call<{ workQueue: Array<{ id: string }> }>(caller, '{ workQueue { id } }')).data?.workQueue ?? []).map((c) => c.id);
    expect(await q(acceptor)).toContain(sub.id);
    expect(await q(acceptor)).not.toContain(acc.id);
    expect(await q(decider)).toContain(acc.id);
    expect(await q(decider)).not.toContain(sub.id);
    expect(await q(reviewer)).toContain(acc.id); // startProcedure moves it
    expect(await q(staff('decider', '11330000MB0000001L'))).not.toContain(acc.id);
    expect(codeOf(await f.call(citizen(7), '{ workQueue { id } }'))).toBe('ROLE_REQUIRED');
  });
});
