import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { StreamMessage } from '../../kernel/cache.ts';
import { bindItemWorkflow, saveWorkflow } from './workflow/registry.ts';
import { PROMISED } from './workflow/shipped.ts';
import {
  CASES_STREAM, LICENCES_STREAM, FOOD_ITEM, DEMO_ITEM_2, caseAction, codeOf, eventually, citizen, feedItems, must, staff, startCaseFixture, submitFull, type CaseFixture,
} from '../../test/support/case.ts';

const CO = '11330000MB0000001L';     // the provincial agency, co-approving
const THIRD = '11330100MB00000030';  // not part of the case
let f: CaseFixture;
beforeAll(async () => {
  f = await startCaseFixture();
  await feedItems(f, [FOOD_ITEM, DEMO_ITEM_2]);
  await f.db.tx((q) => bindItemWorkflow(q, FOOD_ITEM.id, 'parallel', [CO], new Date()));
});
afterAll(async () => { await f.close(); });

/** Every message of the cases stream so far (each f.read returns only what is new). */
const seen: StreamMessage[] = [];
/** Notices the applicant got about one case (R-CA-3), from the fixture's notifier. */
const noticesFor = (caseNumber: string) => f.notices.filter((n) => n.params?.caseNumber === caseNumber).map((n) => n.template);
const approvedEvents = async (id: string) => {
  seen.push(...await f.read(CASES_STREAM));
  return seen.filter((m) => m.fields.type === 'case.approved' && m.fields.payload!.includes(id));
};

describe('case.parallel', () => {
  test('R-CA-9: lead and co-agency approve in parallel; the case moves on only when all are in, with one case.approved', async () => {
    const c = await submitFull(f, citizen(1), { itemId: FOOD_ITEM.id });
    expect(c).toMatchObject({ workflowId: 'parallel', coAgencies: [CO] });
    // One window: only the lead agency accepts.
    expect((await caseAction(f, staff('acceptor', CO), c.id, 'accept')).code).toBe('ROLE_REQUIRED');
    const acc = await must(f, staff('acceptor'), c.id, 'accept');
    expect(acc.pendingApprovals).toEqual([FOOD_ITEM.agencyCode, CO]);

    const queue = async (agency: string) =>
      ((await f.call<{ workQueue: Array<{ id: string }> }>(staff('decider', agency), '{ workQueue { id } }')).data!.workQueue).map((x) => x.id);
    expect(await queue(CO)).toContain(c.id);

    expect((await caseAction(f, staff('decider', THIRD), c.id, 'approve')).code).toBe('ROLE_REQUIRED');
    const one = await must(f, staff('decider', CO), c.id, 'approve', { opinion: '同意' });
    expect(one).toMatchObject({ status: 'ACCEPTED', pendingApprovals: [FOOD_ITEM.agencyCode] });
    expect(await queue(CO)).not.toContain(c.id);
    expect((await caseAction(f, staff('decider', CO), c.id, 'approve')).code).toBe('CASE_TRANSITION_INVALID'); // once per agency
    expect(await approvedEvents(c.id)).toEqual([]);

    const all = await must(f, staff('decider'), c.id, 'approve', { opinion: '准予许可' });
    expect(all).toMatchObject({ status: 'APPROVED', pendingApprovals: [] });
    await eventually(async () => (await approvedEvents(c.id)).length > 0);
    await new Promise((r) => setTimeout(r, 300)); // a duplicate would be published by now
    expect(await approvedEvents(c.id)).toHaveLength(1); // one licence
    // One notice of the result, however many agencies approved (R-CA-9): the licence completes the case.
    await f.publish(LICENCES_STREAM, 'licence.issued', { licenceId: 'l-par-1', identifier: 'P1', caseId: c.id, holderId: 'h', issuedAt: new Date().toISOString() });
    await eventually(async () => noticesFor(c.caseNumber).includes('case.completed'));
    await new Promise((r) => setTimeout(r, 300)); // a duplicate would be sent by now
    expect(noticesFor(c.caseNumber)).toEqual(['case.accepted', 'case.completed']);
  });

  test('R-CA-9: a co-agency refuses its part: the case ends not permitted (outcome 1), with one notice', async () => {
    const c = await must(f, staff('acceptor'), (await submitFull(f, citizen(4), { itemId: FOOD_ITEM.id })).id, 'accept');
    await must(f, staff('decider'), c.id, 'approve', { opinion: '同意' }); // the lead approved already
    expect((await caseAction(f, staff('decider', THIRD), c.id, 'deny', { opinion: '不同意' })).code).toBe('ROLE_REQUIRED');
    expect((await caseAction(f, staff('decider', CO), c.id, 'deny')).code).toBe('BAD_INPUT'); // a reason is required
    const d = await must(f, staff('decider', CO), c.id, 'deny', { opinion: '消防条件不符合' });
    expect(d).toMatchObject({ status: 'COMPLETED', outcomeCode: '1' });
    expect(JSON.parse(d.steps.at(-1)!.details!)).toMatchObject({ agency: CO });
    expect((await caseAction(f, staff('decider'), c.id, 'approve')).code).toBe('CASE_TRANSITION_INVALID');
    await eventually(async () => noticesFor(c.caseNumber).includes('case.completed'));
    await new Promise((r) => setTimeout(r, 300));
    expect(noticesFor(c.caseNumber)).toEqual(['case.accepted', 'case.completed']);
    expect(f.notices.find((n) => n.params?.caseNumber === c.caseNumber && n.template === 'case.completed')!.text).toContain('消防条件不符合');
  });

  test('R-CA-8: joint handling allows an extension of up to 15 working days (Administrative Licensing Law art. 42)', async () => {
    const c = await must(f, staff('acceptor'), (await submitFull(f, citizen(6), { itemId: FOOD_ITEM.id })).id, 'accept');
    expect((await caseAction(f, staff('reviewer'), c.id, 'requestExtension', { opinion: '联合踏勘', input: { extensionDays: 16 } })).code).toBe('BAD_INPUT');
    const r = await must(f, staff('reviewer'), c.id, 'requestExtension', { opinion: '联合踏勘', input: { extensionDays: 15 } });
    expect(r.extensionRequested).toBe(15);
    expect(await must(f, staff('decider'), c.id, 'approveExtension')).toMatchObject({ extensionDays: 15, extensionRequested: null });
    const list = (await f.call<{ workflows: Array<{ id: string; maxExtensionDays: number; actions: Array<{ name: string; byAnyAgency: boolean }> }> }>(
      staff('decider'), '{ workflows { id maxExtensionDays actions { name byAnyAgency } } }')).data!.workflows;
    expect(list.filter((w) => ['promised', 'instant', 'parallel'].includes(w.id)).map((w) => [w.id, w.maxExtensionDays]).sort())
      .toEqual([['instant', 10], ['parallel', 15], ['promised', 10]]);
    expect(list.find((w) => w.id === 'parallel')!.actions.find((a) => a.name === 'deny')!.byAnyAgency).toBe(true);
  });

  test('two agencies approving at the same moment: both approvals count, the case moves on once', async () => {
    const c = await must(f, staff('acceptor'), (await submitFull(f, citizen(2), { itemId: FOOD_ITEM.id })).id, 'accept');
    const tries = async (agency: string) => {
      for (let i = 0; i < 10; i++) {
        const r = await caseAction(f, staff('decider', agency), c.id, 'approve');
        if (r.code !== 'CONFLICT') return r;
      }
      throw new Error('still conflicting');
    };
    await Promise.all([tries(CO), tries(FOOD_ITEM.agencyCode)]);
    const { rows } = await f.db.query<{ status: string }>('select status from cases.cases where id = $1', [c.id]);
    expect(rows[0]!.status).toBe('APPROVED');
    expect((await f.db.query('select 1 from cases.case_approvals where case_id = $1', [c.id])).rows).toHaveLength(2);
    await eventually(async () => (await approvedEvents(c.id)).length > 0);
    await new Promise((r) => setTimeout(r, 300)); // a duplicate would be published by now
    expect(await approvedEvents(c.id)).toHaveLength(1);
  });
});

describe('case.workflow-data', () => {
  test('a custom definition is validated before it is stored, bound to an item, and followed by its cases', async () => {
    // Without endProcedure, withdraw and voidCase, SUSPENDED is a dead end.
    const broken = { ...PROMISED, id: 'short-flow', actions: PROMISED.actions.filter((a) => !['endProcedure', 'withdraw', 'voidCase'].includes(a.name)) };
    await expect(f.db.tx((q) => saveWorkflow(q, broken, new Date()))).rejects.toMatchObject({ code: 'WORKFLOW_INVALID' });
    expect((await f.db.query(`select 1 from cases.workflows where id = 'short-flow'`)).rows).toEqual([]);

    // Without review or special procedures: accept, then decide.
    const short = {
      ...PROMISED, id: 'short-flow', name: '简易流程',
      states: PROMISED.states.filter((s) => s.code !== 'SUSPENDED'),
      actions: PROMISED.actions.filter((a) => !['startProcedure', 'endProcedure'].includes(a.name))
        .map((a) => ({ ...a, from: a.from.filter((st) => st !== 'SUSPENDED') })),
    };
    await f.db.tx((q) => saveWorkflow(q, short, new Date()));
    await expect(f.db.tx((q) => saveWorkflow(q, short, new Date()))).rejects.toMatchObject({ code: 'WORKFLOW_INVALID' }); // immutable
    await f.db.tx((q) => bindItemWorkflow(q, DEMO_ITEM_2.id, 'short-flow', [], new Date()));
    const c = await must(f, staff('acceptor', DEMO_ITEM_2.agencyCode), (await submitFull(f, citizen(3), { itemId: DEMO_ITEM_2.id })).id, 'accept');
    expect(c.workflowId).toBe('short-flow');
    expect((await caseAction(f, staff('reviewer', DEMO_ITEM_2.agencyCode), c.id, 'startProcedure', { input: { procedure: 'HEARING' } })).code)
      .toBe('CASE_TRANSITION_INVALID');
    const list = (await f.call<{ workflows: Array<{ id: string }> }>(staff('decider'), '{ workflows { id actions { name roles } } }')).data!.workflows;
    expect(list.map((w) => w.id)).toEqual(expect.arrayContaining(['promised', 'instant', 'parallel', 'short-flow']));
  });

  test('through the graph: deciders define workflows and bind their own agency\'s items; every problem is listed', async () => {
    const DEFINE = 'mutation ($d: String!) { defineWorkflow(definition: $d) { id states { code deadline clock } actions { name to roles } } }';
    const BIND = 'mutation ($i: ID!, $w: ID!, $co: [String!]) { bindItemWorkflow(itemId: $i, workflowId: $w, coAgencies: $co) }';
    const broken = await f.call(staff('decider'), DEFINE, { d: JSON.stringify({ ...PROMISED, id: 'g-flow', initial: 'NOPE', actions: [{ ...PROMISED.actions[0], roles: [] }] }) });
    expect(codeOf(broken)).toBe('WORKFLOW_INVALID');
    expect((broken.errors?.[0]?.extensions?.details as { problems: string[] }).problems.length).toBeGreaterThan(1);
    expect(codeOf(await f.call(staff('decider'), DEFINE, { d: 'not json' }))).toBe('BAD_INPUT');
    expect(codeOf(await f.call(staff('acceptor'), DEFINE, { d: JSON.stringify({ ...PROMISED, id: 'g-flow' }) }))).toBe('ROLE_REQUIRED');
    const ok = await f.call<{ defineWorkflow: { id: string } }>(staff('decider'), DEFINE, { d: JSON.stringify({ ...PROMISED, id: 'g-flow' }) });
    expect(ok.data?.defineWorkflow.id).toBe('g-flow');
    expect((await f.db.query(`select 1 from cases.workflows where id = 'g-flow'`)).rows).toHaveLength(1);

    expect(codeOf(await f.call(staff('decider', CO), BIND, { i: DEMO_ITEM_2.id, w: 'g-flow' }))).toBe('ROLE_REQUIRED'); // not its item
    expect(codeOf(await f.call(staff('decider'), BIND, { i: DEMO_ITEM_2.id, w: 'parallel' }))).toBe('WORKFLOW_INVALID'); // no co-agencies
    expect(codeOf(await f.call(staff('decider'), BIND, { i: DEMO_ITEM_2.id, w: 'parallel', co: ['not-a-code'] }))).toBe('BAD_INPUT');
    expect((await f.call<{ bindItemWorkflow: boolean }>(staff('decider'), BIND, { i: DEMO_ITEM_2.id, w: 'g-flow' })).data?.bindItemWorkflow).toBe(true);
    expect((await submitFull(f, citizen(5), { itemId: DEMO_ITEM_2.id })).workflowId).toBe('g-flow');
  });
});
