import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { systemClock } from '../../../kernel/clock.ts';
import type { Notice } from '../../../kernel/notify.ts';
import { FOOD_ITEM, feedItems, startCaseFixture, submit, type CaseFixture } from '../../../test/support/case.ts';
import { BOOK, DEFINE_CALENDAR, DEFINE_WINDOW, fakeDirectory, person, staffOf } from '../../../test/support/appointments.ts';
import { addDays, localDate } from './time.ts';
import { weekdaysOnly } from './working-days.ts';

// The real case service: appointment migrations, resolvers and loop are part of it.
let f: CaseFixture;
const sent: Notice[] = [];
const directory = fakeDirectory();
beforeAll(async () => {
  directory.add(1);
  f = await startCaseFixture(systemClock, { appointments: { directory, days: weekdaysOnly, notifier: { send: async (n) => { sent.push(n); } }, scanMs: 50 } });
  await feedItems(f);
});
afterAll(async () => { await f.close(); });

const data = async <T>(r: Promise<{ data?: T | null; errors?: unknown }>) => {
  const out = await r;
  if (!out.data) throw new Error(JSON.stringify(out.errors));
  return out.data;
};

describe('appointments.wiring', () => {
  test('the case service serves appointments beside cases', async () => {
    const applied = await f.db.query<{ id: string }>(`select id from cases.schema_migrations where id like 'appt_%'`);
    expect(applied.rows.map((r) => r.id)).toEqual(['appt_001_init']);
    const w = await data(f.call<{ defineHallWindow: { id: string } }>(staffOf('decider'), DEFINE_WINDOW, { input: { hall: '市民中心', name: '1号窗口' } }));
    await data(f.call(staffOf('decider'), DEFINE_CALENDAR, {
      input: { windowId: w.defineHallWindow.id, itemId: FOOD_ITEM.id, periods: [{ start: '09:00', end: '17:00' }], slotMinutes: 60, capacity: 1 },
    }));
    let day = addDays(localDate(new Date()), 1);
    while (!weekdaysOnly.isWorkingDay(day)) day = addDays(day, 1);
    const booked = await data(f.call<{ bookAppointment: { status: string } }>(person(1), BOOK, { windowId: w.defineHallWindow.id, itemId: FOOD_ITEM.id, date: day, start: '16:00' }));
    expect(booked.bookAppointment.status).toBe('BOOKED');
    const c = await submit(f, person(1), { itemId: FOOD_ITEM.id });
    const mine = await data(f.call<{ myCases: Array<{ id: string }>; myAppointments: Array<{ date: string }> }>(person(1), '{ myCases { id } myAppointments { date } }'));
    expect(mine).toEqual({ myCases: [{ id: c.id }], myAppointments: [{ date: day }] });
  });
});
