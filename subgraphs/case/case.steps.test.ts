import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ACCEPT, APPROVE, FOOD_ITEM, act, citizen, feedItems, staff, startCaseFixture, submit, type CaseFixture } from '../../test/support/case.ts';

let f: CaseFixture;
beforeAll(async () => {
  f = await startCaseFixture();
  await feedItems(f, [FOOD_ITEM]);
});
afterAll(async () => { await f.close(); });

describe('case.steps', () => {
  test('each action appends a step: action, status after, handler, opinion, time (R-CA-11)', async () => {
    const c = await submit(f, citizen(1), { itemId: FOOD_ITEM.id });
    await act(f, staff('acceptor'), ACCEPT, { id: c.id, opinion: '受理' });
    const done = await act(f, staff('decider'), APPROVE, { id: c.id, opinion: '准予许可' });
    expect(done.steps.map((s) => [s.action, s.status, s.handlerName, s.opinion])).toEqual([
      ['submit', 'SUBMITTED', '申请人1', null],
      ['accept', 'ACCEPTED', '李受理', '受理'],
      ['approve', 'APPROVED', '陈决定', '准予许可'],
    ]);
    for (const s of done.steps) expect(Number.isNaN(Date.parse(s.at))).toBe(false);
  });

  test('the log is append-only: UPDATE, DELETE and TRUNCATE are refused by the database', async () => {
    const c = await submit(f, citizen(2), { itemId: FOOD_ITEM.id });
    await expect(f.db.query(`update cases.case_steps set opinion = 'rewritten' where case_id = $1`, [c.id])).rejects.toThrow(/append-only/);
    await expect(f.db.query('delete from cases.case_steps where case_id = $1', [c.id])).rejects.toThrow(/append-only/);
    await expect(f.db.query('truncate cases.case_steps')).rejects.toThrow(/append-only/);
    const { rows } = await f.db.query<{ opinion: string | null }>('select opinion from cases.case_steps where case_id = $1', [c.id]);
    expect(rows).toEqual([{ opinion: null }]);
  });
});
