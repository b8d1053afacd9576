import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ANONYMOUS } from '../../test/support/subgraph.ts';
import {
  ACCEPT, APPROVE, CASES_STREAM, FOOD_ITEM, HR_ITEM, HZ, HZ_HR, REJECT, act, citizen, codeOf, feedItems, staff, startCaseFixture, submit,
  type CaseFixture, type CaseView,
} from '../../test/support/case.ts';

let f: CaseFixture;
beforeAll(async () => {
  f = await startCaseFixture();
  await feedItems(f);
});
afterAll(async () => { await f.close(); });

const OTHER_AGENCY = '11330000MB0000001L';
const acceptor = staff('acceptor');
const decider = staff('decider');

const stored = async (id: string) =>
  (await f.db.query<{ status: string; version: number }>('select status, version from cases.cases where id = $1', [id])).rows[0]!;
const stepCount = async (id: string) =>
  (await f.db.query<{ n: number }>('select count(*)::int as n from cases.case_steps where case_id = $1', [id])).rows[0]!.n;

async function accepted(item = FOOD_ITEM, who = citizen(1)): Promise<CaseView> {
  const c = await submit(f, who, { itemId: item.id });
  return act(f, staff('acceptor', item.agencyCode), ACCEPT, { id: c.id });
}

describe('case.workflow.roles', () => {
  test('acceptCase: only an acceptor of the item\'s agency (R-CA-7)', async () => {
    const c = await submit(f, citizen(1), { itemId: FOOD_ITEM.id });
    const refusals: Array<[string, ReturnType<typeof staff> | typeof ANONYMOUS, string]> = [
      ['anonymous', ANONYMOUS, 'UNAUTHENTICATED'],
      ['the applicant', citizen(1), 'ROLE_REQUIRED'],
      ['a decider', decider, 'ROLE_REQUIRED'],
      ['a receiver', staff('receiver'), 'ROLE_REQUIRED'],
      ['an acceptor of another agency', staff('acceptor', OTHER_AGENCY), 'ROLE_REQUIRED'],
    ];
    for (const [, caller, code] of refusals) expect(codeOf(await f.call(caller, ACCEPT, { id: c.id }))).toBe(code);
    expect(await stored(c.id)).toEqual({ status: 'SUBMITTED', version: 1 });
    expect(await stepCount(c.id)).toBe(1);

    const done = await act(f, acceptor, ACCEPT, { id: c.id, opinion: '材料齐全', version: 1 });
    expect(done).toMatchObject({ status: 'ACCEPTED', version: 2 });
    expect(done.steps.at(-1)).toMatchObject({ action: 'accept', status: 'ACCEPTED', handlerName: '李受理', opinion: '材料齐全' });
  });

  test('rejectCase: acceptor only; a reason is required; outcome 6 and case.completed (R-CA-10)', async () => {
    const c = await submit(f, citizen(2), { itemId: FOOD_ITEM.id });
    expect(codeOf(await f.call(decider, REJECT, { id: c.id, reason: '材料不全' }))).toBe('ROLE_REQUIRED');
    expect(codeOf(await f.call(citizen(2), REJECT, { id: c.id, reason: '材料不全' }))).toBe('ROLE_REQUIRED');
    expect(codeOf(await f.call(staff('acceptor', OTHER_AGENCY), REJECT, { id: c.id, reason: '材料不全' }))).toBe('ROLE_REQUIRED');
    expect(codeOf(await f.call(acceptor, REJECT, { id: c.id, reason: '   ' }))).toBe('BAD_INPUT');
    expect(await stored(c.id)).toEqual({ status: 'SUBMITTED', version: 1 });

    const r = await act(f, acceptor, REJECT, { id: c.id, reason: '不属于本机关职权范围' });
    expect(r).toMatchObject({ status: 'REJECTED', outcomeCode: '6' });
    expect(r.steps.at(-1)).toMatchObject({ action: 'reject', status: 'REJECTED', opinion: '不属于本机关职权范围' });
    const completed = await eventuallyOn(CASES_STREAM, (m) => m.type === 'case.completed' && m.payload.caseId === c.id);
    expect(completed.payload).toEqual({
      caseId: c.id, caseNumber: c.caseNumber, itemId: FOOD_ITEM.id, agencyCode: HZ, applicantId: (citizen(2) as { sub: string }).sub,
      outcomeCode: '6', completedAt: expect.any(String), reason: '不属于本机关职权范围',
      mode: 'ONLINE', visits: 0, overdue: false, submittedAt: expect.any(String),
    });
  });

  test('approveCase: only a decider of the item\'s agency', async () => {
    const c = await accepted();
    for (const caller of [citizen(1), acceptor, staff('decider', OTHER_AGENCY), ANONYMOUS]) {
      expect(['ROLE_REQUIRED', 'UNAUTHENTICATED']).toContain(codeOf(await f.call(caller, APPROVE, { id: c.id })));
    }
    expect(await stored(c.id)).toEqual({ status: 'ACCEPTED', version: 2 });
    expect(await act(f, decider, APPROVE, { id: c.id })).toMatchObject({ status: 'APPROVED', outcomeCode: null, version: 3 });
  });

  test('an unknown case → CASE_NOT_FOUND for staff, ROLE_REQUIRED for a citizen (no existence probe)', async () => {
    expect(codeOf(await f.call(acceptor, ACCEPT, { id: randomUUID() }))).toBe('CASE_NOT_FOUND');
    expect(codeOf(await f.call(acceptor, ACCEPT, { id: 'not-a-uuid' }))).toBe('CASE_NOT_FOUND');
    expect(codeOf(await f.call(citizen(1), ACCEPT, { id: randomUUID() }))).toBe('ROLE_REQUIRED');
  });
});

describe('case.workflow.states', () => {
  test('actions in the wrong state → CASE_TRANSITION_INVALID, nothing written', async () => {
    const c = await submit(f, citizen(3), { itemId: FOOD_ITEM.id });
    expect(codeOf(await f.call(decider, APPROVE, { id: c.id }))).toBe('CASE_TRANSITION_INVALID');
    await act(f, acceptor, ACCEPT, { id: c.id });
    expect(codeOf(await f.call(acceptor, ACCEPT, { id: c.id }))).toBe('CASE_TRANSITION_INVALID');
    expect(codeOf(await f.call(acceptor, REJECT, { id: c.id, reason: 'x' }))).toBe('CASE_TRANSITION_INVALID');
    await act(f, decider, APPROVE, { id: c.id });
    expect(codeOf(await f.call(decider, APPROVE, { id: c.id }))).toBe('CASE_TRANSITION_INVALID');
    expect(await stored(c.id)).toEqual({ status: 'APPROVED', version: 3 });
    expect(await stepCount(c.id)).toBe(3);
  });

  test('a stale version → CONFLICT', async () => {
    const c = await submit(f, citizen(3), { itemId: FOOD_ITEM.id });
    expect(codeOf(await f.call(acceptor, ACCEPT, { id: c.id, version: 7 }))).toBe('CONFLICT');
    expect(await stored(c.id)).toEqual({ status: 'SUBMITTED', version: 1 });
  });

  test('two concurrent approvals: exactly one wins, one case.approved', async () => {
    const c = await accepted(FOOD_ITEM, citizen(4));
    const results = await Promise.all([
      f.call<{ approveCase: CaseView }>(decider, APPROVE, { id: c.id, version: c.version }),
      f.call<{ approveCase: CaseView }>(decider, APPROVE, { id: c.id }),
      f.call<{ approveCase: CaseView }>(decider, APPROVE, { id: c.id, version: c.version }),
    ]);
    const wins = results.filter((r) => r.data?.approveCase);
    expect(wins).toHaveLength(1);
    for (const r of results.filter((x) => !x.data?.approveCase)) expect(['CONFLICT', 'CASE_TRANSITION_INVALID']).toContain(codeOf(r));
    expect(await stored(c.id)).toEqual({ status: 'APPROVED', version: 3 });
    expect(await stepCount(c.id)).toBe(3);
    await eventuallyOn(CASES_STREAM, (m) => m.type === 'case.approved' && m.payload.caseId === c.id);
    await new Promise((r) => setTimeout(r, 200));
    expect((await streamLog(CASES_STREAM)).filter((m) => m.type === 'case.approved' && m.payload.caseId === c.id)).toHaveLength(1);
  });
});

describe('case.workflow.events', () => {
  test('approve with a licence type emits exactly one case.approved with the contract payload', async () => {
    const who = citizen(5);
    const c = await accepted(FOOD_ITEM, who);
    await act(f, decider, APPROVE, { id: c.id, opinion: '准予许可' });
    const m = await eventuallyOn(CASES_STREAM, (x) => x.type === 'case.approved' && x.payload.caseId === c.id);
    expect(m.payload).toEqual({
      caseId: c.id, caseNumber: c.caseNumber, itemId: FOOD_ITEM.id, itemName: FOOD_ITEM.name, agencyCode: HZ,
      agencyName: '杭州市市场监督管理局', applicantId: (who as { sub: string }).sub, applicantName: (who as { name: string }).name,
      licenceType: FOOD_ITEM.licenceType, approvedAt: expect.any(String),
    });
    // case.accepted (the applicant's notice, R-CA-3), then exactly one case.approved
    expect((await streamLog(CASES_STREAM)).filter((x) => x.payload.caseId === c.id).map((x) => x.type)).toEqual(['case.accepted', 'case.approved']);
  });

  test('approve without a licence type completes with outcome 0 and emits case.completed, not case.approved', async () => {
    const c = await accepted(HR_ITEM, citizen(6));
    const done = await act(f, staff('decider', HZ_HR), APPROVE, { id: c.id });
    expect(done).toMatchObject({ status: 'COMPLETED', outcomeCode: '0' });
    await eventuallyOn(CASES_STREAM, (x) => x.type === 'case.completed' && x.payload.caseId === c.id);
    expect((await streamLog(CASES_STREAM)).filter((x) => x.payload.caseId === c.id).map((x) => x.type)).toEqual(['case.accepted', 'case.completed']);
  });

  test('licence.issued completes an approved case once (system step, case.completed outcome 0)', async () => {
    const c = await accepted(FOOD_ITEM, citizen(7));
    await act(f, decider, APPROVE, { id: c.id });
    const licenceId = randomUUID();
    const payload = { licenceId, identifier: '1.2.156.3005.2.x', caseId: c.id, holderId: (citizen(7) as { sub: string }).sub, issuedAt: new Date().toISOString() };
    const eventId = await f.publish('licences', 'licence.issued', payload);
    await eventuallyOn(CASES_STREAM, (x) => x.type === 'case.completed' && x.payload.caseId === c.id);
    await f.publish('licences', 'licence.issued', payload, eventId); // redelivery
    await new Promise((r) => setTimeout(r, 300));
    const row = (await f.db.query<{ status: string; outcome_code: string }>('select status, outcome_code from cases.cases where id = $1', [c.id])).rows[0]!;
    expect(row).toEqual({ status: 'COMPLETED', outcome_code: '0' });
    const steps = (await f.db.query<{ action: string; handler_id: string }>('select action, handler_id from cases.case_steps where case_id = $1 order by id', [c.id])).rows;
    expect(steps.map((s) => s.action)).toEqual(['submit', 'accept', 'approve', 'complete']);
    expect(steps.at(-1)!.handler_id).toBe('system');
    const licences = (await f.db.query<{ licence_id: string }>('select licence_id from cases.case_licences where case_id = $1', [c.id])).rows;
    expect(licences).toEqual([{ licence_id: licenceId }]);
    expect((await streamLog(CASES_STREAM)).filter((x) => x.type === 'case.completed' && x.payload.caseId === c.id)).toHaveLength(1);
  });
});

// --- reading the `cases` stream -----------------------------------------------------------------

interface Published { type: string; payload: Record<string, unknown> }
const seen: Published[] = [];
async function streamLog(stream: string): Promise<Published[]> {
  for (const m of await f.read(stream)) seen.push({ type: m.fields.type!, payload: JSON.parse(m.fields.payload!) as Record<string, unknown> });
  return seen;
}
async function eventuallyOn(stream: string, match: (m: Published) => boolean, ms = 10_000): Promise<Published> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = (await streamLog(stream)).find(match);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error('event not published in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
