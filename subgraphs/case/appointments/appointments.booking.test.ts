import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ANONYMOUS } from '../../../test/support/subgraph.ts';
import {
  BOOK, CANCEL, FOOD_ITEM, HR_ITEM, SHOP_ITEM, codeOf, count, idNumberOf, ok, person, setUpWindow, staffOf, startApptFixture,
  type ApptFixture, type ApptView,
} from '../../../test/support/appointments.ts';

let f: ApptFixture;
let win: { windowId: string; calendarId: string };
beforeAll(async () => {
  f = await startApptFixture();
  for (let n = 1; n <= 40; n++) f.directory.add(n);
  win = await setUpWindow(f, { capacity: 2 });
  await setUpWindow(f, { itemId: SHOP_ITEM.id, name: '4号窗口', capacity: 1 });
});
afterAll(async () => { await f.close(); });

const bookVars = (date: string, start: string, itemId = FOOD_ITEM.id) => ({ windowId: win.windowId, itemId, date, start });
const appointments = () => count(f, 'select count(*)::int as n from cases.appointments');
const booked = async (date: string, start: string) => (await f.db.query<{ booked: number }>(
  'select booked from cases.appointment_slots where calendar_id = $1 and starts_at = $2', [win.calendarId, new Date(`${date}T${start}:00+08:00`)])).rows[0]?.booked ?? 0;

/** Every refusal below must leave the tables as they were. */
async function refusedWith(caller: Parameters<ApptFixture['call']>[0], vars: Record<string, unknown>, code: string): Promise<void> {
  const before = await appointments();
  expect(codeOf(await f.call(caller, BOOK, vars))).toBe(code);
  expect(await appointments()).toBe(before);
}

describe('appointments.booking (R-CA-5)', () => {
  test('a person books a slot tomorrow: BOOKED, masked ID number, one place taken', async () => {
    const a = await ok<ApptView>(f, person(1), BOOK, bookVars('2026-11-24', '09:30'));
    expect(a).toMatchObject({ status: 'BOOKED', date: '2026-11-24', start: '09:30', end: '10:00', idNumberMasked: `110105********${idNumberOf(1).slice(14)}`, ticket: null });
    expect(await booked('2026-11-24', '09:30')).toBe(1);
    const mine = await ok<ApptView[]>(f, person(1), '{ myAppointments { id status } }');
    expect(mine).toEqual([{ id: a.id, status: 'BOOKED' }]);
    // The full ID number is not stored anywhere in the appointment row.
    const row = (await f.db.query('select * from cases.appointments where id = $1', [a.id])).rows[0]!;
    expect(JSON.stringify(row)).not.toContain(idNumberOf(1));
  });

  test('login required: anonymous → UNAUTHENTICATED, staff → FORBIDDEN; nothing stored', async () => {
    await refusedWith(ANONYMOUS, bookVars('2026-11-24', '10:00'), 'UNAUTHENTICATED');
    await refusedWith(staffOf('receiver'), bookVars('2026-11-24', '10:00'), 'FORBIDDEN');
  });

  test('only from the next day up to seven days ahead → APPOINTMENT_DATE_OUT_OF_RANGE', async () => {
    await refusedWith(person(2), bookVars('2026-11-23', '15:00'), 'APPOINTMENT_DATE_OUT_OF_RANGE'); // today
    await refusedWith(person(2), bookVars('2026-12-01', '09:00'), 'APPOINTMENT_DATE_OUT_OF_RANGE'); // 8 days ahead
    await refusedWith(person(2), bookVars('2026-11-20', '09:00'), 'APPOINTMENT_DATE_OUT_OF_RANGE'); // past
    const last = await ok<ApptView>(f, person(2), BOOK, bookVars('2026-11-30', '16:30')); // 7 days ahead, the last slot
    expect(last).toMatchObject({ date: '2026-11-30', start: '16:30', end: '17:00' });
  });

  test('working hours only → APPOINTMENT_OUTSIDE_HOURS (weekend, lunch break, not a slot start, no calendar)', async () => {
    await refusedWith(person(3), bookVars('2026-11-28', '09:00'), 'APPOINTMENT_OUTSIDE_HOURS'); // Saturday
    await refusedWith(person(3), bookVars('2026-11-25', '12:30'), 'APPOINTMENT_OUTSIDE_HOURS'); // lunch
    await refusedWith(person(3), bookVars('2026-11-25', '09:10'), 'APPOINTMENT_OUTSIDE_HOURS'); // not a slot start
    await refusedWith(person(3), bookVars('2026-11-25', '17:00'), 'APPOINTMENT_OUTSIDE_HOURS'); // closing time
    await refusedWith(person(3), bookVars('2026-11-25', '09:00', HR_ITEM.id), 'APPOINTMENT_OUTSIDE_HOURS'); // no calendar for that item here
    expect(codeOf(await f.call(person(3), BOOK, bookVars('2026-11-25', '9:00')))).toBe('BAD_INPUT');
    // a window the agency has closed
    const closed = await setUpWindow(f, { name: '9号窗口' });
    await ok(f, staffOf('decider'), 'mutation ($id: ID!) { defineHallWindow(input: { id: $id, hall: "市民中心", name: "9号窗口", active: false }) { id } }', { id: closed.windowId });
    await refusedWith(person(3), { ...bookVars('2026-11-25', '09:00'), windowId: closed.windowId }, 'APPOINTMENT_OUTSIDE_HOURS');
  });

  test('one active appointment per ID per item → APPOINTMENT_ALREADY_BOOKED; another item is fine; cancel frees it', async () => {
    const first = await ok<ApptView>(f, person(4), BOOK, bookVars('2026-11-25', '10:00'));
    await refusedWith(person(4), bookVars('2026-11-26', '10:00'), 'APPOINTMENT_ALREADY_BOOKED');
    const shopWin = (await f.db.query<{ window_id: string }>('select window_id from cases.appointment_calendars where item_id = $1', [SHOP_ITEM.id])).rows[0]!.window_id;
    await ok(f, person(4), BOOK, { windowId: shopWin, itemId: SHOP_ITEM.id, date: '2026-11-25', start: '10:00' });
    const cancelled = await ok<ApptView & { cancelledAt: string }>(f, person(4), CANCEL, { id: first.id });
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.cancelledAt).toBe(f.clock.now().toISOString());
    await ok(f, person(4), BOOK, bookVars('2026-11-26', '10:00'));
  });

  test('the maximum per slot closes it → APPOINTMENT_SLOT_FULL; a cancellation opens it again', async () => {
    const a = await ok<ApptView>(f, person(5), BOOK, bookVars('2026-11-26', '14:00'));
    await ok(f, person(6), BOOK, bookVars('2026-11-26', '14:00'));
    await refusedWith(person(7), bookVars('2026-11-26', '14:00'), 'APPOINTMENT_SLOT_FULL');
    expect(await booked('2026-11-26', '14:00')).toBe(2);
    const slots = await ok<Array<{ date: string; start: string; available: number; open: boolean }>>(f, ANONYMOUS,
      'query ($i: ID!, $w: ID) { appointmentSlots(itemId: $i, windowId: $w) { date start available open } }', { i: FOOD_ITEM.id, w: win.windowId });
    expect(slots.find((s) => s.date === '2026-11-26' && s.start === '14:00')).toEqual({ date: '2026-11-26', start: '14:00', available: 0, open: false });
    await ok(f, person(5), CANCEL, { id: a.id });
    expect(await booked('2026-11-26', '14:00')).toBe(1);
    await ok(f, person(7), BOOK, bookVars('2026-11-26', '14:00'));
  });

  test('concurrent bookings for the last place: exactly one wins, the rest get APPOINTMENT_SLOT_FULL', async () => {
    await ok(f, person(10), BOOK, bookVars('2026-11-27', '11:00'));
    const people = [11, 12, 13, 14, 15, 16, 17];
    const results = await Promise.all(people.map((n) => f.call(person(n), BOOK, bookVars('2026-11-27', '11:00'))));
    const won = results.filter((r) => r.data?.bookAppointment);
    expect(won).toHaveLength(1);
    expect(results.filter((r) => codeOf(r) === 'APPOINTMENT_SLOT_FULL')).toHaveLength(people.length - 1);
    expect(await booked('2026-11-27', '11:00')).toBe(2);
    expect(await count(f, `select count(*)::int as n from cases.appointments where starts_at = $1 and status = 'BOOKED'`, [new Date('2026-11-27T11:00:00+08:00')])).toBe(2);
  });

  test('one person booking the same item twice at once: exactly one wins, and no place is lost', async () => {
    const starts = ['09:00', '09:30', '10:00', '10:30'];
    const results = await Promise.all(starts.map((s) => f.call(person(20), BOOK, bookVars('2026-11-30', s))));
    expect(results.filter((r) => r.data?.bookAppointment)).toHaveLength(1);
    expect(results.filter((r) => codeOf(r) === 'APPOINTMENT_ALREADY_BOOKED')).toHaveLength(3);
    let places = 0;
    for (const s of starts) places += await booked('2026-11-30', s);
    expect(places).toBe(1);
  });

  test('cancel: only one\'s own (APPOINTMENT_NOT_FOUND), only before the slot begins (APPOINTMENT_NOT_CANCELLABLE)', async () => {
    const a = await ok<ApptView>(f, person(21), BOOK, bookVars('2026-11-24', '15:00'));
    expect(codeOf(await f.call(person(22), CANCEL, { id: a.id }))).toBe('APPOINTMENT_NOT_FOUND');
    expect(codeOf(await f.call(person(22), CANCEL, { id: 'not-an-id' }))).toBe('APPOINTMENT_NOT_FOUND');
    expect(codeOf(await f.call(ANONYMOUS, CANCEL, { id: a.id }))).toBe('UNAUTHENTICATED');
    const saved = f.clock.now();
    f.clock.set('2026-11-24T15:00:00+08:00');
    try {
      expect(codeOf(await f.call(person(21), CANCEL, { id: a.id }))).toBe('APPOINTMENT_NOT_CANCELLABLE');
    } finally {
      f.clock.set(saved);
    }
    await ok(f, person(21), CANCEL, { id: a.id });
    expect(codeOf(await f.call(person(21), CANCEL, { id: a.id }))).toBe('APPOINTMENT_NOT_CANCELLABLE');
  });

  test('the IdP unreachable → SERVICE_UNAVAILABLE, nothing stored', async () => {
    f.directory.down = true;
    try {
      await refusedWith(person(23), bookVars('2026-11-24', '16:00'), 'SERVICE_UNAVAILABLE');
    } finally {
      f.directory.down = false;
    }
  });
});
