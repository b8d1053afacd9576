/**
 * Staff of an agency define its hall windows and, per window and item, the slot calendar
 * (opening periods, slot length, maximum per slot). Anyone may read the open slots.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../../../kernel/errors.ts';
import type { Caller } from '../../../kernel/internal-auth.ts';
import { bookableDates, slotsOn, validateCalendar, type Period } from './calendar.ts';
import type { AppointmentDeps } from './deps.ts';
import { calendarsForItem, findWindow, slotCounts, toCalendar, toWindow, type Calendar, type HallWindow } from './repository.ts';
import { requireHallStaff, staffAgency } from './roles.ts';
import { localDate } from './time.ts';

export interface HallWindowInput { id?: string | null; hall: string; name: string; active?: boolean | null }

export async function defineWindow(d: AppointmentDeps, caller: Caller, input: HallWindowInput): Promise<HallWindow> {
  const agency = staffAgency(caller);
  requireHallStaff(caller, agency, 'defineWindow');
  const hall = input.hall.trim(), name = input.name.trim();
  const problems = [...(hall ? [] : ['hall']), ...(name ? [] : ['name'])];
  if (problems.length) throw new AppError('BAD_INPUT', '大厅和窗口名称必填 / hall and window name are required', { fields: problems });
  const now = d.clock.now();
  if (input.id) {
    const w = await findWindow(d.db, input.id);
    if (!w || w.agencyCode !== agency) throw new AppError('HALL_WINDOW_NOT_FOUND', '窗口不存在 / no such window');
    const { rows } = await d.db.query('update cases.hall_windows set hall = $2, name = $3, active = $4, updated_at = $5 where id = $1 returning *',
      [w.id, hall, name, input.active ?? w.active, now]);
    return toWindow(rows[0]!);
  }
  const { rows } = await d.db.query(
    'insert into cases.hall_windows (id, agency_code, hall, name, active, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6) returning *',
    [randomUUID(), agency, hall, name, input.active ?? true, now]);
  return toWindow(rows[0]!);
}

export interface CalendarInput { windowId: string; itemId: string; periods: Period[]; slotMinutes: number; capacity: number; active?: boolean | null }

export async function defineCalendar(d: AppointmentDeps, caller: Caller, input: CalendarInput): Promise<Calendar> {
  const agency = staffAgency(caller);
  requireHallStaff(caller, agency, 'defineCalendar');
  const w = await findWindow(d.db, input.windowId);
  if (!w || w.agencyCode !== agency) throw new AppError('HALL_WINDOW_NOT_FOUND', '窗口不存在 / no such window');
  const item = (await d.db.query('select agency_code from cases.items where id = $1', [input.itemId])).rows[0];
  if (!item || item.agency_code !== agency) throw new AppError('ITEM_NOT_FOUND', '事项不存在或不属于本机构 / no such item in your agency');
  const def = { periods: input.periods.map((p) => ({ start: p.start, end: p.end })), slotMinutes: input.slotMinutes, capacity: input.capacity };
  validateCalendar(def);
  const { rows } = await d.db.query(
    `insert into cases.appointment_calendars (id, window_id, item_id, agency_code, periods, slot_minutes, capacity, active, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     on conflict (window_id, item_id) do update set periods = excluded.periods, slot_minutes = excluded.slot_minutes,
       capacity = excluded.capacity, active = excluded.active, updated_at = excluded.updated_at
     returning *`,
    [randomUUID(), w.id, input.itemId, agency, JSON.stringify(def.periods), def.slotMinutes, def.capacity, input.active ?? true, d.clock.now()]);
  return toCalendar(rows[0]!);
}

export interface SlotView {
  calendarId: string; windowId: string; itemId: string; date: string; start: string; end: string;
  capacity: number; booked: number; available: number; open: boolean;
}

/** The slots of the bookable days (next day to seven days ahead), with what is left of each. */
export async function openSlots(d: AppointmentDeps, itemId: string, windowId?: string | null): Promise<SlotView[]> {
  const calendars = (await calendarsForItem(d.db, itemId)).filter((c) => !windowId || c.windowId === windowId);
  const dates = bookableDates(localDate(d.clock.now()));
  const out: SlotView[] = [];
  for (const c of calendars) {
    const slots = dates.flatMap((date) => slotsOn(c, date, d.days));
    if (slots.length === 0) continue;
    const counts = await slotCounts(d.db, c.id, slots[0]!.startsAt, slots[slots.length - 1]!.endsAt);
    for (const s of slots) {
      const booked = counts.get(s.startsAt.getTime()) ?? 0;
      const available = Math.max(0, c.capacity - booked);
      out.push({ calendarId: c.id, windowId: c.windowId, itemId: c.itemId, date: s.date, start: s.start, end: s.end, capacity: c.capacity, booked, available, open: available > 0 });
    }
  }
  return out;
}

