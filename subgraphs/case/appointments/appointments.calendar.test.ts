import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ANONYMOUS } from '../../../test/support/subgraph.ts';
import { loadCalendar } from '../../../kernel/calendar.ts';
import { bookableDates, slotsOn, validateCalendar } from './calendar.ts';
import { localDate, localMonth, localTime } from './time.ts';
import { weekdaysOnly } from './working-days.ts';
import { demoWindowId, seedDemoWindows } from './seed.ts';
import {
  DEFINE_CALENDAR, DEFINE_WINDOW, FOOD_ITEM, HR_ITEM, HZ, HZ_HR, codeOf, count, ok, person, setUpWindow, staffOf, startApptFixture,
  type ApptFixture,
} from '../../../test/support/appointments.ts';
import { AppError } from '../../../kernel/errors.ts';

const DAY = { periods: [{ start: '09:00', end: '12:00' }, { start: '13:30', end: '17:00' }], slotMinutes: 30, capacity: 3 };

function problemsOf(c: Parameters<typeof validateCalendar>[0]): string[] {
  try {
    validateCalendar(c);
    return [];
  } catch (e) {
    expect((e as AppError).code).toBe('APPOINTMENT_CALENDAR_INVALID');
    return (e as AppError).details!.problems as string[];
  }
}

describe('appointments.calendar (rules, R-CA-5)', () => {
  test('a sound calendar passes; every broken rule is reported at once', () => {
    expect(problemsOf(DAY)).toEqual([]);
    expect(problemsOf({ periods: [], slotMinutes: 30, capacity: 1 })).toEqual(['at least one opening period is needed']);
    const bad = problemsOf({
      periods: [{ start: '9:00', end: '12:00' }, { start: '11:00', end: '10:00' }, { start: '10:00', end: '12:00' }, { start: '11:30', end: '12:10' }],
      slotMinutes: 30, capacity: 0,
    });
    expect(bad).toEqual(expect.arrayContaining([
      'period 1: times must be HH:MM', 'period 2: ends before it starts', 'periods 10:00-12:00 and 11:30-12:10 overlap',
      'period 4: its length is not a whole number of 30-minute slots', 'capacity per slot must be 1 to 1000',
    ]));
    expect(problemsOf({ periods: [{ start: '09:00', end: '09:20' }], slotMinutes: 30, capacity: 1 })).toEqual(['period 1: shorter than one slot']);
    expect(problemsOf({ periods: [{ start: '09:00', end: '10:00' }], slotMinutes: 3, capacity: 1 })).toContain('slot length must be 5 to 240 minutes');
  });

  test('slots of a working day in Beijing time; none on a non-working day', () => {
    const slots = slotsOn(DAY, '2026-11-24', weekdaysOnly);
    expect(slots).toHaveLength(13);
    expect(slots[0]).toEqual({ date: '2026-11-24', start: '09:00', end: '09:30', startsAt: new Date('2026-11-24T01:00:00Z'), endsAt: new Date('2026-11-24T01:30:00Z') });
    expect(slots.map((s) => s.start)).toContain('13:30');
    expect(slots.map((s) => s.start)).not.toContain('12:00');
    expect(slotsOn(DAY, '2026-11-28', weekdaysOnly)).toEqual([]); // Saturday
  });

  test('the national holiday calendar (R-CA-8) closes holidays and opens make-up working days', () => {
    const national = loadCalendar(undefined);
    expect(slotsOn(DAY, '2026-10-01', national)).toEqual([]);           // National Day, a Thursday
    expect(slotsOn(DAY, '2026-10-10', national)).toHaveLength(13);      // Saturday worked instead (调休)
    expect(slotsOn(DAY, '2026-10-10', weekdaysOnly)).toEqual([]);
  });

  test('bookable dates: the next day up to seven days ahead; local date and month follow Beijing time', () => {
    expect(bookableDates('2026-11-23')).toEqual(['2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29', '2026-11-30']);
    const lateUtc = new Date('2026-11-30T17:30:00Z'); // 01:30 on 1 December in Beijing
    expect(localDate(lateUtc)).toBe('2026-12-01');
    expect(localTime(lateUtc)).toBe('01:30');
    expect(localMonth(lateUtc)).toBe('2026-12');
  });
});

let f: ApptFixture;
beforeAll(async () => { f = await startApptFixture(); });
afterAll(async () => { await f.close(); });

const windows = () => count(f, 'select count(*)::int as n from cases.hall_windows');
const calendars = () => count(f, 'select count(*)::int as n from cases.appointment_calendars');

describe('appointments.calendar (staff define windows, hours and capacities)', () => {
  test('a decider creates and updates a window of the own agency; anyone lists an agency\'s windows', async () => {
    const w = await ok<{ id: string; agencyCode: string }>(f, staffOf('decider'), DEFINE_WINDOW, { input: { hall: '市民中心', name: '1号窗口' } });
    expect(w).toMatchObject({ agencyCode: HZ, hall: '市民中心', name: '1号窗口', active: true });
    const renamed = await ok(f, staffOf('decider'), DEFINE_WINDOW, { input: { id: w.id, hall: '市民中心', name: '一号窗口', active: false } });
    expect(renamed).toMatchObject({ id: w.id, name: '一号窗口', active: false });
    const listed = await ok<Array<{ id: string }>>(f, ANONYMOUS, 'query ($a: String!) { hallWindows(agencyCode: $a) { id name } }', { a: HZ });
    expect(listed).toEqual([{ id: w.id, name: '一号窗口' }]);
  });

  test('only a decider of the agency: others → ROLE_REQUIRED / UNAUTHENTICATED; another agency\'s window → HALL_WINDOW_NOT_FOUND; nothing stored', async () => {
    const before = await windows();
    expect(codeOf(await f.call(staffOf('receiver'), DEFINE_WINDOW, { input: { hall: 'h', name: 'n' } }))).toBe('ROLE_REQUIRED');
    expect(codeOf(await f.call(person(1), DEFINE_WINDOW, { input: { hall: 'h', name: 'n' } }))).toBe('ROLE_REQUIRED');
    expect(codeOf(await f.call(ANONYMOUS, DEFINE_WINDOW, { input: { hall: 'h', name: 'n' } }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await f.call(staffOf('decider'), DEFINE_WINDOW, { input: { hall: ' ', name: 'n' } }))).toBe('BAD_INPUT');
    const { windowId } = await setUpWindow(f);
    expect(codeOf(await f.call(staffOf('decider', HZ_HR), DEFINE_WINDOW, { input: { id: windowId, hall: 'h', name: 'taken' } }))).toBe('HALL_WINDOW_NOT_FOUND');
    expect(await windows()).toBe(before + 1);
  });

  test('a calendar per window and item: set, then changed in place; broken ones and foreign items are refused, nothing stored', async () => {
    const { windowId, calendarId } = await setUpWindow(f, { name: '5号窗口' });
    const before = await calendars();
    const input = { windowId, itemId: FOOD_ITEM.id, periods: [{ start: '08:30', end: '11:30' }], slotMinutes: 60, capacity: 5 };
    const changed = await ok<{ id: string }>(f, staffOf('decider'), DEFINE_CALENDAR, { input });
    expect(changed).toEqual({ id: calendarId, window: { id: windowId }, item: { id: FOOD_ITEM.id }, periods: [{ start: '08:30', end: '11:30' }], slotMinutes: 60, capacity: 5, active: true });
    expect(await calendars()).toBe(before);

    const broken = await f.call(staffOf('decider'), DEFINE_CALENDAR, { input: { ...input, periods: [{ start: '12:00', end: '11:00' }], capacity: 0 } });
    expect(codeOf(broken)).toBe('APPOINTMENT_CALENDAR_INVALID');
    expect(broken.errors![0]!.extensions!.details).toEqual({ problems: ['period 1: ends before it starts', 'capacity per slot must be 1 to 1000'] });
    expect(codeOf(await f.call(staffOf('decider'), DEFINE_CALENDAR, { input: { ...input, itemId: HR_ITEM.id } }))).toBe('ITEM_NOT_FOUND');
    expect(codeOf(await f.call(staffOf('decider'), DEFINE_CALENDAR, { input: { ...input, itemId: 'nope' } }))).toBe('ITEM_NOT_FOUND');
    expect(codeOf(await f.call(staffOf('decider', HZ_HR), DEFINE_CALENDAR, { input: { ...input, itemId: HR_ITEM.id } }))).toBe('HALL_WINDOW_NOT_FOUND');
    expect(codeOf(await f.call(staffOf('acceptor'), DEFINE_CALENDAR, { input }))).toBe('ROLE_REQUIRED');
    expect(await calendars()).toBe(before);
    const stored = (await f.db.query('select capacity, slot_minutes from cases.appointment_calendars where id = $1', [calendarId])).rows[0];
    expect(stored).toEqual({ capacity: 5, slot_minutes: 60 });

    const mine = await ok<Array<{ id: string }>>(f, staffOf('receiver'), '{ appointmentCalendars { id } }');
    expect(mine.map((c) => c.id)).toContain(calendarId);
    expect(codeOf(await f.call(person(1), '{ appointmentCalendars { id } }'))).toBe('ROLE_REQUIRED');
  });

  test('open slots (public): the working days from tomorrow to seven days ahead, with what is left', async () => {
    const { windowId } = await setUpWindow(f, { name: '6号窗口', capacity: 4 });
    const slots = await ok<Array<{ date: string; start: string; end: string; capacity: number; booked: number; available: number; open: boolean; window: { id: string } }>>(
      f, ANONYMOUS, 'query ($i: ID!, $w: ID) { appointmentSlots(itemId: $i, windowId: $w) { date start end capacity booked available open window { id } } }', { i: FOOD_ITEM.id, w: windowId });
    const dates = [...new Set(slots.map((s) => s.date))];
    expect(dates).toEqual(['2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-30']); // not today, not the weekend
    expect(slots).toHaveLength(5 * 13);
    expect(slots[0]).toEqual({ date: '2026-11-24', start: '09:00', end: '09:30', capacity: 4, booked: 0, available: 4, open: true, window: { id: windowId } });
    // an inactive calendar offers nothing
    await ok(f, staffOf('decider'), DEFINE_CALENDAR, { input: { windowId, itemId: FOOD_ITEM.id, periods: [{ start: '09:00', end: '10:00' }], slotMinutes: 30, capacity: 1, active: false } });
    expect(await ok<unknown[]>(f, ANONYMOUS, 'query ($i: ID!, $w: ID) { appointmentSlots(itemId: $i, windowId: $w) { date } }', { i: FOOD_ITEM.id, w: windowId })).toEqual([]);
  });
  test('demo seed (SEED_DEMO): a window per demo agency with calendars for its items; idempotent, never overwrites', async () => {
    await seedDemoWindows(f.db, f.clock.now());
    await ok(f, staffOf('decider'), DEFINE_CALENDAR, { input: { windowId: demoWindowId(1), itemId: FOOD_ITEM.id, periods: [{ start: '09:00', end: '10:00' }], slotMinutes: 30, capacity: 7 } });
    await seedDemoWindows(f.db, f.clock.now());
    expect(await count(f, 'select count(*)::int as n from cases.hall_windows where id = $1', [demoWindowId(1)])).toBe(1);
    const slots = await ok<Array<{ capacity: number }>>(f, ANONYMOUS, 'query ($i: ID!, $w: ID) { appointmentSlots(itemId: $i, windowId: $w) { capacity } }', { i: FOOD_ITEM.id, w: demoWindowId(1) });
    expect(slots).toHaveLength(5 * 2);
    expect(slots[0]!.capacity).toBe(7);
    const hr = await ok<Array<{ capacity: number }>>(f, ANONYMOUS, 'query ($i: ID!) { appointmentSlots(itemId: $i) { capacity } }', { i: HR_ITEM.id });
    expect(hr).toHaveLength(5 * 13);
  });
});
