import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ANONYMOUS, entitiesQuery } from '../../test/support/subgraph.ts';
import { ACCEPT, FOOD_ITEM, HR_ITEM, HZ, act, citizen, codeOf, feedItems, staff, startCaseFixture, submit, type CaseFixture, type CaseView } from '../../test/support/case.ts';

let f: CaseFixture;
let mine: CaseView[];
let hr: CaseView;
beforeAll(async () => {
  f = await startCaseFixture();
  await feedItems(f);
  mine = [];
  for (let i = 0; i < 3; i++) mine.push(await submit(f, citizen(1), { itemId: FOOD_ITEM.id }));
  await act(f, staff('acceptor'), ACCEPT, { id: mine[0]!.id });
  hr = await submit(f, citizen(2), { itemId: HR_ITEM.id });
});
afterAll(async () => { await f.close(); });

const CASE = 'query ($id: ID!) { case(id: $id) { id caseNumber item { id } applicant { id } applicantName } }';

describe('case.queries', () => {
  test('myCases: the person\'s own cases, newest first', async () => {
    const r = await f.call<{ myCases: Array<{ id: string }> }>(citizen(1), '{ myCases { id } }');
    expect(r.data!.myCases.map((c) => c.id)).toEqual(mine.map((c) => c.id).reverse());
    expect((await f.call<{ myCases: unknown[] }>(citizen(9), '{ myCases { id } }')).data!.myCases).toEqual([]);
    expect(codeOf(await f.call(ANONYMOUS, '{ myCases { id } }'))).toBe('UNAUTHENTICATED');
  });

  test('case(id): the applicant and staff of its agency see it; others get null', async () => {
    const id = mine[1]!.id;
    const seen = await f.call<{ case: Record<string, unknown> }>(citizen(1), CASE, { id });
    expect(seen.data!.case).toEqual({
      id, caseNumber: mine[1]!.caseNumber, item: { id: FOOD_ITEM.id }, applicant: { id: (citizen(1) as { sub: string }).sub }, applicantName: '申请人1',
    });
    expect((await f.call<{ case: { id: string } }>(staff('reviewer'), CASE, { id })).data!.case.id).toBe(id);
    for (const other of [citizen(2), staff('acceptor', '11330000MB0000001L'), ANONYMOUS]) {
      const r = await f.call<{ case: unknown }>(other, CASE, { id });
      expect(r.errors).toBeUndefined();
      expect(r.data!.case).toBeNull();
    }
    expect((await f.call<{ case: unknown }>(citizen(1), CASE, { id: randomUUID() })).data!.case).toBeNull();
    expect((await f.call<{ case: unknown }>(citizen(1), CASE, { id: 'nope' })).data!.case).toBeNull();
  });

  test('caseQueue: staff see their own agency\'s cases in a status, oldest first', async () => {
    const q = 'query ($s: CaseStatus!) { caseQueue(status: $s) { id } }';
    const submitted = await f.call<{ caseQueue: Array<{ id: string }> }>(staff('acceptor'), q, { s: 'SUBMITTED' });
    expect(submitted.data!.caseQueue.map((c) => c.id)).toEqual([mine[1]!.id, mine[2]!.id]);
    const accepted = await f.call<{ caseQueue: Array<{ id: string }> }>(staff('decider'), q, { s: 'ACCEPTED' });
    expect(accepted.data!.caseQueue.map((c) => c.id)).toEqual([mine[0]!.id]);
    const hrQueue = await f.call<{ caseQueue: Array<{ id: string }> }>(staff('acceptor', HR_ITEM.agencyCode), q, { s: 'SUBMITTED' });
    expect(hrQueue.data!.caseQueue.map((c) => c.id)).toEqual([hr.id]);
    expect(codeOf(await f.call(citizen(1), q, { s: 'SUBMITTED' }))).toBe('ROLE_REQUIRED');
    expect(codeOf(await f.call(ANONYMOUS, q, { s: 'SUBMITTED' }))).toBe('UNAUTHENTICATED');
  });

  test('Case entity: resolved for those who may see it, null otherwise', async () => {
    const q = entitiesQuery('... on Case { id status agencyCode }');
    const reps = { representations: [{ __typename: 'Case', id: mine[0]!.id }, { __typename: 'Case', id: hr.id }] };
    const asApplicant = await f.call<{ _entities: unknown[] }>(citizen(1), q, reps);
    expect(asApplicant.data!._entities).toEqual([{ id: mine[0]!.id, status: 'ACCEPTED', agencyCode: HZ }, null]);
    const asStaff = await f.call<{ _entities: unknown[] }>(staff('acceptor', HR_ITEM.agencyCode), q, reps);
    expect(asStaff.data!._entities).toEqual([null, { id: hr.id, status: 'SUBMITTED', agencyCode: HR_ITEM.agencyCode }]);
  });

  test('a request without the gateway\'s identity assertion is refused', async () => {
    const { callSubgraph } = await import('../../test/support/subgraph.ts');
    const r = await callSubgraph(f.svc.url, null, citizen(1), '{ myCases { id } }');
    expect(r.status).toBe(401);
    expect(r.problem?.code).toBe('GATEWAY_IDENTITY_REQUIRED');
  });

  test('/healthz reports the database, the cache and the event loops', async () => {
    const res = await fetch(`${f.svc.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ service: 'case', status: 'ok', checks: { db: 'ok', cache: 'ok', events: 'ok' } });
  });
});

describe('case.replica', () => {
  test('demo seeding fills missing items only: events stay the fresher truth', async () => {
    const { seedReplica } = await import('./service.ts');
    await f.db.query(`update cases.items set name = 'from an event' where id = $1`, [HR_ITEM.id]);
    await seedReplica(f.deps);
    const { rows } = await f.db.query<{ id: string; name: string }>('select id, name from cases.items order by id');
    expect(rows.length).toBe(4);
    expect(rows.find((r) => r.id === HR_ITEM.id)!.name).toBe('from an event');
  });

  test('item.upserted updates the replica; a malformed payload is skipped', async () => {
    await f.publish('items', 'item.upserted', { name: 'no id' });
    await f.publish('items', 'item.upserted', { id: FOOD_ITEM.id, name: '食品经营许可（新办）v2', agencyCode: HZ, agencyName: '杭州市市场监督管理局', licenceType: null });
    const { eventually } = await import('../../test/support/case.ts');
    const row = await eventually(async () => {
      const r = (await f.db.query<{ name: string; licence_type_code: string | null }>('select name, licence_type_code from cases.items where id = $1', [FOOD_ITEM.id])).rows[0];
      return r?.name.endsWith('v2') ? r : null;
    });
    expect(row.licence_type_code).toBeNull();
  });
});
