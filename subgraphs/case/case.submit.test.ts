import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ANONYMOUS } from '../../test/support/subgraph.ts';
import {
  FOOD_ITEM, HZ, SUBMIT, citizen, codeOf, feedItems, staff, startCaseFixture, submit, type CaseFixture, type CaseView,
} from '../../test/support/case.ts';
import { chinaDate } from './case-number.ts';

let f: CaseFixture;
beforeAll(async () => {
  f = await startCaseFixture();
  await feedItems(f);
});
afterAll(async () => { await f.close(); });

const countCases = async () => (await f.db.query<{ n: number }>('select count(*)::int as n from cases.cases')).rows[0]!.n;

describe('case.submit', () => {
  test('a person submits: case number <region><YYYYMMDD><seq>, status SUBMITTED, one submit step (R-CA-1, R-CA-11)', async () => {
    const me = citizen(1);
    const c = await submit(f, me, { itemId: FOOD_ITEM.id, form: JSON.stringify({ shopName: '西湖小吃' }) });
    expect(c.caseNumber).toMatch(new RegExp(`^330100${chinaDate(new Date())}\\d{6}$`));
    expect(c.status).toBe('SUBMITTED');
    expect(c.agencyCode).toBe(HZ);
    expect(c.version).toBe(1);
    expect(c.outcomeCode).toBeNull();
    expect(c.steps).toEqual([expect.objectContaining({ action: 'submit', status: 'SUBMITTED', handlerId: (me as { sub: string }).sub })]);
    const second = await submit(f, me, { itemId: FOOD_ITEM.id });
    expect(Number(second.caseNumber.slice(-6))).toBe(Number(c.caseNumber.slice(-6)) + 1);
  });

  test('anonymous → UNAUTHENTICATED; staff → FORBIDDEN; nothing stored', async () => {
    const before = await countCases();
    expect(codeOf(await f.call(ANONYMOUS, SUBMIT, { input: { itemId: FOOD_ITEM.id } }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await f.call(staff('acceptor'), SUBMIT, { input: { itemId: FOOD_ITEM.id } }))).toBe('FORBIDDEN');
    expect(await countCases()).toBe(before);
  });

  test('an item not in the replica → ITEM_NOT_FOUND, nothing stored', async () => {
    const before = await countCases();
    expect(codeOf(await f.call(citizen(2), SUBMIT, { input: { itemId: randomUUID() } }))).toBe('ITEM_NOT_FOUND');
    expect(await countCases()).toBe(before);
  });

  test.each([['not json', '{oops'], ['an array', '[1,2]'], ['a string', '"x"'], ['null', 'null']])(
    'a form that is %s → BAD_INPUT, nothing stored', async (_, form) => {
      const before = await countCases();
      const r = await f.call(citizen(2), SUBMIT, { input: { itemId: FOOD_ITEM.id, form } });
      expect(codeOf(r)).toBe('BAD_INPUT');
      expect(await countCases()).toBe(before);
    });

  test('a retried submit with the same idempotency key returns the same case', async () => {
    const me = citizen(3);
    const key = randomUUID();
    const a = await submit(f, me, { itemId: FOOD_ITEM.id, idempotencyKey: key });
    const b = await submit(f, me, { itemId: FOOD_ITEM.id, idempotencyKey: key });
    expect(b.id).toBe(a.id);
    expect(b.caseNumber).toBe(a.caseNumber);
    // Another applicant with the same key gets their own case.
    const other = await submit(f, citizen(4), { itemId: FOOD_ITEM.id, idempotencyKey: key });
    expect(other.id).not.toBe(a.id);
  });

  test('concurrent duplicate submits with one key create exactly one case', async () => {
    const me = citizen(5);
    const key = randomUUID();
    const results = await Promise.all(Array.from({ length: 6 }, () => f.call<{ submitCase: CaseView }>(me, SUBMIT, { input: { itemId: FOOD_ITEM.id, idempotencyKey: key } })));
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(new Set(results.map((r) => r.data!.submitCase.id)).size).toBe(1);
    const { rows } = await f.db.query<{ n: number }>('select count(*)::int as n from cases.cases where idempotency_key = $1', [key]);
    expect(rows[0]!.n).toBe(1);
  });

  test('reusing a key for another item → BAD_INPUT', async () => {
    const me = citizen(6);
    const key = randomUUID();
    await submit(f, me, { itemId: FOOD_ITEM.id, idempotencyKey: key });
    const r = await f.call(me, SUBMIT, { input: { itemId: 'b0f7c1f2-0001-4000-8000-000000000003', idempotencyKey: key } });
    expect(codeOf(r)).toBe('BAD_INPUT');
  });

  test('concurrent submits get distinct case numbers', async () => {
    const cases = await Promise.all(Array.from({ length: 8 }, (_, i) => submit(f, citizen(100 + i), { itemId: FOOD_ITEM.id })));
    expect(new Set(cases.map((c) => c.caseNumber)).size).toBe(8);
  });
});
