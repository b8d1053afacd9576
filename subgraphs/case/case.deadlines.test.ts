import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ManualClock } from '../../kernel/clock.ts';
import { startDeadlineWatcher, type DeadlineWatcher } from './deadlines/watcher.ts';
import { createCalendar } from '../../kernel/calendar.ts';
import { silentLogger } from '../../kernel/log.ts';
import { FOOD_ITEM, citizen, eventually, feedItems, must, staff, startCaseFixture, submitFull, type CaseFixture } from '../../test/support/case.ts';

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
    // R-EV-5: the completion tells the rankings whether a clock lapsed.
    const seen: Array<{ fields: Record<string, string | undefined> }> = [];
    const completion = async (id: string) => JSON.parse((await eventually(async () => {
      seen.push(...await f.read('cases'));
      return seen.find((m) => m.fields.type === 'case.completed' && m.fields.payload!.includes(id));
    }))!.fields.payload!) as { overdue: boolean };
    expect((await completion(late.id)).overdue).toBe(true);
    expect((await completion(prompt.id)).overdue).toBe(false);
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

  // Administrative Licensing Law art. 32(4): the 5 days count from receipt of the materials, so the
  // complete materials start a new acceptance period (the old clock is not resumed).
  test('a supplement request stops the acceptance clock; the complete materials start a new 5-working-day period', async () => {
    clock.set('2026-09-29T10:00:00+08:00'); // Tue before National Day
    const c = await submitFull(f, citizen(4), { itemId: FOOD_ITEM.id });
    // 5 working days: 30 Sep, 8 Oct, 9 Oct, Sat 10 Oct (worked), Mon 12 Oct.
    expect(c.deadlineAt).toBe(new Date('2026-10-12T23:59:59.999+08:00').toISOString());
    await must(f, acceptor, c.id, 'requestSupplement', { input: { missingMaterials: ['健康证明'] } });
    clock.set('2026-10-20T10:00:00+08:00');
    expect((await watcher.tick()).overdue).not.toContain(c.id);
    const back = await must(f, citizen(4), c.id, 'supplement'); // Tue 20 Oct
    // 21, 22, 23, 26, 27 Oct: five working days from the receipt of the supplement.
    expect(back).toMatchObject({ status: 'SUBMITTED', pausedAt: null, deadlineAt: new Date('2026-10-27T23:59:59.999+08:00').toISOString() });
  });

  test('R-CA-8: a case that lapsed and was finished between two scans gets its record and does not count as on time', async () => {
    clock.set('2026-11-02T10:00:00+08:00'); // Mon
    const before = await supervision();
    const c = await must(f, acceptor, (await submitFull(f, citizen(6), { itemId: FOOD_ITEM.id })).id, 'accept');
    expect(c.deadlineAt).toBe(new Date('2026-11-09T23:59:59.999+08:00').toISOString());
    clock.set('2026-11-10T09:00:00+08:00'); // lapsed; no scan ran
    await must(f, decider, c.id, 'deny', { opinion: '逾期后作出' });
    expect(await alerts(c.id)).toEqual([{ kind: 'overdue', state: 'ACCEPTED' }]);
    expect(await watcher.tick()).toMatchObject({ overdue: expect.not.arrayContaining([c.id]) });
    expect(await alerts(c.id)).toHaveLength(1); // once per lapse
    const after = await supervision();
    expect(after.finished - before.finished).toBe(1);
    expect(after.finishedOnTime - before.finishedOnTime).toBe(0);

    // A case finished in time counts as on time.
    clock.set('2026-11-02T10:00:00+08:00');
    const ok = await must(f, acceptor, (await submitFull(f, citizen(7), { itemId: FOOD_ITEM.id })).id, 'accept');
    await must(f, decider, ok.id, 'deny', { opinion: '不符合条件' });
    expect(await alerts(ok.id)).toEqual([]);
    expect((await supervision()).finishedOnTime - before.finishedOnTime).toBe(1);
  });

  test('R-CA-8: pausing a lapsed clock records the lapse (once); resuming does not add another', async () => {
    clock.set('2026-11-02T10:00:00+08:00');
    const c = await must(f, acceptor, (await submitFull(f, citizen(8), { itemId: FOOD_ITEM.id })).id, 'accept');
    clock.set('2026-11-11T10:00:00+08:00'); // deadline (9 Nov) lapsed, no scan ran
    await must(f, reviewer, c.id, 'startProcedure', { input: { procedure: 'HEARING' } });
    expect(await alerts(c.id)).toEqual([{ kind: 'overdue', state: 'ACCEPTED' }]);
    expect((await watcher.tick()).overdue).not.toContain(c.id); // paused: nothing more
    await must(f, reviewer, c.id, 'endProcedure');
    expect(await alerts(c.id)).toEqual([{ kind: 'overdue', state: 'ACCEPTED' }]);
  });

  test('R-CA-8: a case warned before a special procedure is warned again about its moved deadline', async () => {
    clock.set('2026-11-02T10:00:00+08:00'); // Mon; deadline Mon 9 Nov
    const c = await must(f, acceptor, (await submitFull(f, citizen(9), { itemId: FOOD_ITEM.id })).id, 'accept');
    clock.set('2026-11-05T10:00:00+08:00'); // Thu: 2 working days left
    expect((await watcher.tick()).warned).toContain(c.id);
    await must(f, reviewer, c.id, 'startProcedure', { input: { procedure: 'TESTING' } });
    clock.set('2026-11-12T10:00:00+08:00'); // Thu a week later: 5 working days lost
    const back = await must(f, reviewer, c.id, 'endProcedure');
    expect(back).toMatchObject({ warnedAt: null, deadlineAt: new Date('2026-11-16T23:59:59.999+08:00').toISOString() });
    expect((await supervision()).warned.map((w) => w.caseNumber)).not.toContain(c.caseNumber); // the old warning is about the old deadline
    clock.set('2026-11-13T10:00:00+08:00'); // Fri: 2 working days left of the moved deadline
    expect((await watcher.tick()).warned).toContain(c.id);
    expect((await supervision()).warned.map((w) => w.caseNumber)).toContain(c.caseNumber);
    expect(await alerts(c.id)).toEqual([{ kind: 'warning', state: 'ACCEPTED' }, { kind: 'warning', state: 'ACCEPTED' }]);
  });

  test('R-CA-8: accountability records are for staff of the case\'s agency only, never the applicant', async () => {
    clock.set('2026-08-03T10:00:00+08:00');
    const c = await must(f, acceptor, (await submitFull(f, citizen(10), { itemId: FOOD_ITEM.id })).id, 'accept');
    clock.set('2026-08-31T10:00:00+08:00');
    expect((await watcher.tick()).overdue).toContain(c.id);
    const q = `{ case(id: "${c.id}") { id accountability { kind } } }`;
    const asStaff = await f.call<{ case: { accountability: unknown } }>(decider, q);
    expect(asStaff.data!.case.accountability).toEqual([{ kind: 'overdue' }]);
    const asApplicant = await f.call<{ case: { id: string; accountability: unknown } }>(citizen(10), q);
    expect(asApplicant.errors).toBeUndefined();
    expect(asApplicant.data!.case).toEqual({ id: c.id, accountability: null });
  });
});
