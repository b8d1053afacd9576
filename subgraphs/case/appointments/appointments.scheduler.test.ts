import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  BOOK, CANCEL, FOOD_ITEM, MONDAY_9AM, codeOf, count, eventually, ok, person, setUpWindow, startApptFixture,
  type ApptFixture, type ApptView,
} from '../../../test/support/appointments.ts';
import { addDays, localDate } from './time.ts';
import { weekdaysOnly } from './working-days.ts';

let f: ApptFixture;
let windowId: string;
const mobile = (n: number) => `139${String(n).padStart(8, '0')}`;
const book = (n: number, date: string, start = '09:00') => ok<ApptView>(f, person(n), BOOK, { windowId, itemId: FOOD_ITEM.id, date, start });
const noticesTo = async (n: number) => (await f.notices()).filter((x) => x.to === mobile(n));
const row = async (id: string) => (await f.db.query<{ status: string; reminded_at: Date | null; reminder_result: string | null }>(
  'select status, reminded_at, reminder_result from cases.appointments where id = $1', [id])).rows[0]!;
const STANDING = '{ myBookingStanding { suspended suspendedUntil noShowsThisMonth } }';

beforeAll(async () => {
  // The real loop runs every 50 ms on the fixture's ManualClock: moving the clock is all a test does.
  f = await startApptFixture({ scanMs: 50 });
  for (let n = 1; n <= 20; n++) f.directory.add(n);
  f.directory.add(9, null); // an account without a mobile number
  ({ windowId } = await setUpWindow(f, { capacity: 5 }));
});
afterAll(async () => { await f.close(); });

describe('appointments.reminders (R-CA-5)', () => {
  test('an SMS the day before, from the reminder time (10:00), to the mobile the IdP holds; once', async () => {
    f.clock.set(MONDAY_9AM);
    const tue = await book(1, '2026-11-24', '14:00');
    const wed = await book(2, '2026-11-25', '09:30');
    const cancelled = await book(3, '2026-11-24', '15:00');
    await ok(f, person(3), CANCEL, { id: cancelled.id });
    await f.appointments.scheduler.runOnce();
    f.clock.set('2026-11-23T09:59:00+08:00');
    await f.appointments.scheduler.runOnce();
    expect(await f.notices()).toEqual([]);

    f.clock.set('2026-11-23T10:00:00+08:00');
    const [sent] = await eventually(async () => { const n = await noticesTo(1); return n.length ? n : null; });
    expect(sent).toMatchObject({
      to: mobile(1), template: 'appointment.reminder',
      params: { item: FOOD_ITEM.name, date: '2026-11-24', start: '14:00', end: '14:30', place: '市民中心3号窗口' },
    });
    expect(sent!.text).toContain('2026-11-24 14:00-14:30');
    expect(sent!.text).toContain('取消预约');
    await eventually(async () => (await row(tue.id)).reminder_result === 'sent'); // marked just after the send
    expect(await noticesTo(2)).toEqual([]);  // Wednesday's comes on Tuesday
    expect(await noticesTo(3)).toEqual([]);  // cancelled: none

    f.clock.set('2026-11-24T10:00:00+08:00');
    await eventually(async () => (await row(wed.id)).reminder_result === 'sent');
    expect(await noticesTo(2)).toHaveLength(1);
    const r = await ok<ApptView[]>(f, person(2), '{ myAppointments { id remindedAt } }');
    expect(r[0]!.remindedAt).toBe(new Date('2026-11-24T10:00:00+08:00').toISOString());
    await f.appointments.scheduler.runOnce();
    expect(await noticesTo(1)).toHaveLength(1);
    expect(await noticesTo(2)).toHaveLength(1);
  });

  test('booked after the reminder time for the next day: reminded at once; no mobile: recorded, nothing sent', async () => {
    f.clock.set('2026-11-24T20:00:00+08:00');
    const late = await book(4, '2026-11-25', '10:00');
    await eventually(async () => (await row(late.id)).reminder_result === 'sent');
    expect(await noticesTo(4)).toHaveLength(1);
    const none = await book(9, '2026-11-25', '10:00');
    await eventually(async () => (await row(none.id)).reminded_at !== null);
    expect((await row(none.id)).reminder_result).toBe('no-mobile');
  });

  test('a refused send is retried when its claim lapses: delivered once, never lost', async () => {
    f.clock.set('2026-11-25T08:00:00+08:00');
    const a = await book(5, '2026-11-26', '11:00');
    f.failSends(1);
    f.clock.set('2026-11-25T10:00:00+08:00');
    await eventually(async () => (await row(a.id)).reminded_at === null && (await f.db.query('select 1 from cases.appointments where id = $1 and reminder_claimed_until is not null', [a.id])).rows.length === 1);
    await f.appointments.scheduler.runOnce();
    expect(await noticesTo(5)).toEqual([]);
    f.clock.set('2026-11-25T10:06:00+08:00');
    await eventually(async () => (await row(a.id)).reminder_result === 'sent');
    await f.appointments.scheduler.runOnce();
    expect(await noticesTo(5)).toHaveLength(1);
  });
});

describe('appointments.no-shows (R-CA-5)', () => {
  test('a slot that ends without check-in becomes a no-show (not before it ends)', async () => {
    f.clock.set('2026-11-25T12:00:00+08:00');
    const a = await book(6, '2026-11-26', '09:00');
    f.clock.set('2026-11-26T09:29:00+08:00');
    await f.appointments.scheduler.runOnce();
    expect((await row(a.id)).status).toBe('BOOKED');
    f.clock.set('2026-11-26T09:30:00+08:00');
    await eventually(async () => (await row(a.id)).status === 'NO_SHOW');
    expect(await count(f, `select count(*)::int as n from cases.appointment_no_shows where appointment_id = $1 and month = '2026-11'`, [a.id])).toBe(1);
    expect(await ok(f, person(6), STANDING)).toEqual({ suspended: false, suspendedUntil: null, noShowsThisMonth: 1 });
  });

  test('no-shows in different calendar months do not add up', async () => {
    for (const [bookOn, day] of [['2026-11-26', '2026-11-27'], ['2026-11-27', '2026-11-30'], ['2026-11-30', '2026-12-01'], ['2026-12-01', '2026-12-02']] as const) {
      f.clock.set(`${bookOn}T16:00:00+08:00`);
      const a = await book(8, day, '13:30');
      f.clock.set(`${day}T14:00:00+08:00`);
      await eventually(async () => (await row(a.id)).status === 'NO_SHOW');
    }
    expect(await ok(f, person(8), STANDING)).toEqual({ suspended: false, suspendedUntil: null, noShowsThisMonth: 2 });
    await book(8, '2026-12-03');
  });

  test('more than three no-shows in one month suspend online booking (APPOINTMENT_BOOKING_SUSPENDED) for 30 days; three do not', async () => {
    const days = ['2026-12-14', '2026-12-15', '2026-12-16', '2026-12-17'];
    let fourthAt = new Date(0);
    for (const [i, day] of days.entries()) {
      f.clock.set(`${day}T08:00:00+08:00`);
      f.clock.advance(-86_400_000); // book the day before
      const a = await book(7, day);
      f.clock.set(`${day}T09:30:00+08:00`);
      await eventually(async () => (await row(a.id)).status === 'NO_SHOW');
      fourthAt = f.clock.now();
      const standing = await ok<{ suspended: boolean; noShowsThisMonth: number }>(f, person(7), STANDING);
      expect(standing).toMatchObject({ suspended: i === 3, noShowsThisMonth: i + 1 });
    }
    const standing = await ok<{ suspendedUntil: string }>(f, person(7), STANDING);
    const until = new Date(standing.suspendedUntil).getTime();
    // Recorded by the first loop pass at or after 09:30.
    expect(until - fourthAt.getTime()).toBeGreaterThanOrEqual(30 * 86_400_000);
    expect(until - fourthAt.getTime()).toBeLessThan(30 * 86_400_000 + 60_000);

    const before = await count(f, 'select count(*)::int as n from cases.appointments');
    const r = await f.call(person(7), BOOK, { windowId, itemId: FOOD_ITEM.id, date: '2026-12-18', start: '09:00' });
    expect(codeOf(r)).toBe('APPOINTMENT_BOOKING_SUSPENDED');
    expect(await count(f, 'select count(*)::int as n from cases.appointments')).toBe(before);

    // The day the suspension ends, booking is open again (for the next working day).
    f.clock.set(until + 1000);
    let next = addDays(localDate(f.clock.now()), 1);
    while (!weekdaysOnly.isWorkingDay(next)) next = addDays(next, 1);
    expect((await book(7, next)).status).toBe('BOOKED');
  });
  test('passes running at once (several replicas) record each no-show once and send each reminder once', async () => {
    f.clock.set('2026-12-21T08:00:00+08:00');
    const missed = [await book(10, '2026-12-22', '09:00'), await book(11, '2026-12-22', '09:00'), await book(12, '2026-12-22', '09:00')];
    // The fixture's own loop (every 50 ms) is a fifth replica: a pass it began may still be
    // sending when ours return, so wait for the sends, then run more passes and count again.
    const passes = () => Promise.all([1, 2, 3, 4].map(() => f.appointments.scheduler.runOnce()));
    f.clock.set('2026-12-21T10:00:00+08:00');
    await passes();
    await eventually(async () => ((await Promise.all([10, 11, 12].map(noticesTo))).every((n) => n.length > 0) ? true : null));
    await passes();
    for (const n of [10, 11, 12]) expect(await noticesTo(n)).toHaveLength(1);
    f.clock.set('2026-12-22T09:30:00+08:00');
    const noShows = (id: string) => count(f, 'select count(*)::int as n from cases.appointment_no_shows where appointment_id = $1', [id]);
    await passes();
    await eventually(async () => ((await Promise.all(missed.map((a) => noShows(a.id)))).every((n) => n > 0) ? true : null));
    await passes();
    for (const a of missed) expect(await noShows(a.id)).toBe(1);
  });
});
