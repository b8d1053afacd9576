import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ManualClock } from '../../kernel/clock.ts';
import { startDeadlineWatcher, type DeadlineWatcher } from './deadlines/watcher.ts';
import { createCalendar } from './deadlines/calendar.ts';
import { silentLogger } from '../../kernel/log.ts';
import { FOOD_ITEM, citizen, eventually, feedItems, must, staff, startCaseFixture, submitFull, type CaseFixture } from './testing.ts';

// Monday 2 March 2026, 10:00 China time; the food item promises 5 working days (warning at 2 left).
const clock = new ManualClock('2026-03-02T10:00:00+08:00');
let f: CaseFixture;
let watcher: DeadlineWatcher;
beforeAll(async () => {
  f = await startCaseFixture(clock, { onWatcher: (w) => { watcher = w; } });
  await feedItems(f, [FOOD_ITEM]);
});
afterAll(async () => { await f.close(); });

const acceptor = staff('acceptor'), reviewer = staff('reviewer'), decider = staff('decider');
const day = 86_400_000;
const supervision = async (caller = decider) => (await f.call<{ supervision: {
  overdue: Array<{ caseNumber: string; state: string }>; warned: Array<{ caseNumber: string }>; finished: number; finishedOnTime: number; onTimeRate: number | null;
} }>(caller, '{ supervision { overdue { caseNumber state deadlineAt } warned { caseNumber } finished finishedOnTime onTimeRate } }')).data!.supervision;
const alerts = async (id: string) =>
  (await f.db.query<{ kind: string; state: string }>('select kind, state from cases.case_alerts where case_id = $1 order by id', [id])).rows;

describe('case.deadlines', () => {
  test('R-CA-8: warned before the deadline, an accountability record when overdue (once), supervision and on-time rate', async () => {
    clock.set('2026-03-02T10:00:00+08:00');
    const late = await must(f, acceptor, (await submitFull(f, citizen(1), { itemId: FOOD_ITEM.id })).id, 'accept');
    const prompt = await must(f, acceptor, (await submitFull(f, citizen(2), { itemId: FOOD_ITEM.id })).id, 'accept');
    expect(late.deadlineAt).toBe(new Date('2026-03-09T23:59:59.999+08:00').toISOString());

    clock.set('2026-03-04T10:00:00+08:00'); // Wed: 3 working days left
    expect(await watcher.tick()).toEqual({ warned: [], overdue: [] });
    clock.set('2026-03-05T10:00:00+08:00'); // Thu: 2 left → warning
    expect((await watcher.tick()).warned.sort()).toEqual([late.id, prompt.id].sort());
    expect((await watcher.tick()).warned).toEqual([]); // once
    expect((await supervision()).warned.map((w) => w.caseNumber)).toContain(late.caseNumber);

    await must(f, decider, prompt.id, 'deny', { opinion: '不符合条件' }); // finished on time
    clock.set('2026-03-10T00:00:01+08:00'); // Tue just after midnight: the deadline (end of Mon) has passed
    expect(await watcher.tick()).toEqual({ warned: [], overdue: [late.id] });
    expect(await watcher.tick()).toEqual({ warned: [], overdue: [] }); // no second record
    expect(await alerts(late.id)).toEqual([{ kind: 'warning', state: 'ACCEPTED' }, { kind: 'overdue', state: 'ACCEPTED' }]);

    const s = await supervision();
    expect(s.overdue.map((o) => o.caseNumber)).toEqual([late.caseNumber]);
    expect(s.warned.map((o) => o.caseNumber)).not.toContain(late.caseNumber); // overdue now, not merely warned
    expect(s).toMatchObject({ finished: 1, finishedOnTime: 1, onTimeRate: 1 });
    expect((await supervision(staff('decider', '11330000MB0000001L'))).overdue).toEqual([]); // by agency

    await must(f, decider, late.id, 'deny', { opinion: '逾期后作出' });
    expect(await supervision()).toMatchObject({ overdue: [], finished: 2, finishedOnTime: 1, onTimeRate: 0.5 });
    const view = (await f.call<{ case: { accountability: Array<{ kind: string }> } }>(decider, `{ case(id: "${late.id}") { accountability { kind state } } }`)).data!.case;
    expect(view.accountability).toEqual([{ kind: 'overdue', state: 'ACCEPTED' }]);
  });

  test('a special procedure pauses the clock: no record while paused; resuming moves the deadline by the working days lost', async () => {
    clock.set('2026-03-02T10:00:00+08:00');
    const c = await must(f, acceptor, (await submitFull(f, citizen(3), { itemId: FOOD_ITEM.id })).id, 'accept');
    await must(f, reviewer, c.id, 'startProcedure', { input: { procedure: 'EXPERT_REVIEW' } });
    clock.set('2026-03-16T10:00:00+08:00'); // two weeks later (10 working days)
    expect((await watcher.tick()).overdue).not.toContain(c.id);
    const back = await must(f, reviewer, c.id, 'endProcedure');
    expect(back.deadlineAt).toBe(new Date('2026-03-23T23:59:59.999+08:00').toISOString()); // 9 Mar + 10 working days
    expect((await watcher.tick()).overdue).not.toContain(c.id);
    expect(await alerts(c.id)).toEqual([]);
  });

  test('the loop records by itself: an overdue case gets its accountability record with no one asking', async () => {
    clock.set('2026-06-01T10:00:00+08:00');
    const c = await must(f, acceptor, (await submitFull(f, citizen(5), { itemId: FOOD_ITEM.id })).id, 'accept');
    clock.set('2026-06-30T10:00:00+08:00');
    const loop = startDeadlineWatcher({ db: f.db, clock, calendar: createCalendar(), warnDays: 2, intervalMs: 50, log: silentLogger() });
    try {
      await eventually(async () => (await alerts(c.id)).some((a) => a.kind === 'overdue'));
    } finally {
      await loop.stop();
    }
  });

  test('a supplement request stops the acceptance clock; after the supplement a new 5-day clock starts', async () => {
    clock.set('2026-09-29T10:00:00+08:00'); // Tue before National Day
    const c = await submitFull(f, citizen(4), { itemId: FOOD_ITEM.id });
    // 5 working days: 30 Sep, 8 Oct, 9 Oct, Sat 10 Oct (worked), Mon 12 Oct.
    expect(c.deadlineAt).toBe(new Date('2026-10-12T23:59:59.999+08:00').toISOString());
    await must(f, acceptor, c.id, 'requestSupplement', { input: { missingMaterials: ['健康证明'] } });
    clock.set('2026-10-20T10:00:00+08:00');
    expect((await watcher.tick()).overdue).not.toContain(c.id);
    const back = await must(f, citizen(4), c.id, 'supplement');
    expect(Date.parse(back.deadlineAt!)).toBeGreaterThan(clock.now().getTime() + 5 * day);
  });
});
