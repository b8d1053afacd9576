import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { StreamMessage } from '../../kernel/cache.ts';
import { bindItemWorkflow, saveWorkflow } from './workflow/registry.ts';
import { PROMISED } from './workflow/shipped.ts';
import {
  CASES_STREAM, FOOD_ITEM, DEMO_ITEM_2, caseAction, codeOf, eventually, citizen, feedItems, must, staff, startCaseFixture, submitFull, type CaseFixture,
} from './testing.ts';

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
    expect(await approvedEvents(c.id)).toHaveLength(1); // one licence, one notice
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
    // Without endProcedure and withdraw, SUSPENDED is a dead end.
    const broken = { ...PROMISED, id: 'short-flow', actions: PROMISED.actions.filter((a) => a.name !== 'endProcedure' && a.name !== 'withdraw') };
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
