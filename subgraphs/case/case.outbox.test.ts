import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ACCEPT, FOOD_ITEM, act, citizen, feedItems, staff, startCaseFixture, submit, type CaseFixture } from '../../test/support/case.ts';
import { findCase } from './repository.ts';
import { applyAction, type Handler } from './workflow/transitions.ts';
import { PROMISED } from './workflow/shipped.ts';
import { createCalendar } from '../../kernel/calendar.ts';
import { localLogistics } from './delivery/logistics.ts';
import type { Queryable } from '../../kernel/db.ts';
import type { CaseRecord } from './repository.ts';

const env = { calendar: createCalendar(), logistics: localLogistics };
const applyTransition = (q: Queryable, c: CaseRecord, action: string, h: Handler, opinion: string | null, version: number, now: Date) =>
  applyAction(q, env, PROMISED, c, action, h, opinion, {}, version, now);

let f: CaseFixture;
beforeAll(async () => {
  f = await startCaseFixture();
  await feedItems(f, [FOOD_ITEM]);
});
afterAll(async () => { await f.close(); });

const outboxFor = async (caseId: string) =>
  (await f.db.query<{ type: string }>(`select type from cases.outbox where payload->>'caseId' = $1 and type = 'case.approved'`, [caseId])).rows;

describe('case.outbox (R-PL-2)', () => {
  test('an approval rolled back after its event was enqueued never reaches the stream', async () => {
    const c = await act(f, staff('acceptor'), ACCEPT, { id: (await submit(f, citizen(1), { itemId: FOOD_ITEM.id })).id });
    const crash = new Error('process died before commit');
    await expect(f.db.tx(async (q) => {
      const row = (await findCase(q, c.id))!;
      await applyTransition(q, row, 'approve', { id: 'd', name: 'decider' }, null, row.version, new Date());
      expect((await q.query(`select 1 from cases.outbox where payload->>'caseId' = $1 and type = 'case.approved'`, [c.id])).rows).toHaveLength(1); // enqueued…
      throw crash;
    })).rejects.toBe(crash);
    expect(await outboxFor(c.id)).toEqual([]); // …and gone with the rollback
    expect((await findCase(f.db, c.id))!.status).toBe('ACCEPTED');
    await new Promise((r) => setTimeout(r, 300)); // several relay ticks
    const published = (await f.read('cases')).filter((m) => m.fields.type === 'case.approved' && (JSON.parse(m.fields.payload!) as { caseId: string }).caseId === c.id);
    expect(published).toEqual([]);
  });

  test('optimistic concurrency: a transition from a stale read writes nothing and throws CONFLICT', async () => {
    const c = await submit(f, citizen(2), { itemId: FOOD_ITEM.id });
    const stale = (await findCase(f.db, c.id))!;
    await f.db.tx((q) => applyTransition(q, stale, 'accept', { id: 'a', name: 'first' }, null, stale.version, new Date()));
    await expect(f.db.tx((q) => applyTransition(q, stale, 'accept', { id: 'b', name: 'second' }, null, stale.version, new Date())))
      .rejects.toMatchObject({ code: 'CONFLICT' });
    const steps = (await f.db.query<{ handler_name: string }>('select handler_name from cases.case_steps where case_id = $1 order by id', [c.id])).rows;
    expect(steps.map((s) => s.handler_name)).toEqual(['申请人2', 'first']);
  });
});
