/**
 * Slot calendars (R-CA-5): for one hall window and one item, the opening periods of a working day
 * (e.g. 09:00-12:00 and 13:30-17:00), the slot length and the maximum appointments per slot
 * (设置最大预约数, set by the agency from the item's handling time and expected visitors).
 *
 * A calendar is validated by the checks in `CALENDAR_CHECKS` (all run; every problem is reported
 * at once in APPOINTMENT_CALENDAR_INVALID `details.problems`). Slots are not stored: they are
 * derived from the calendar for a date, and only their booking counts are kept.
 */
import { AppError } from '../../../kernel/errors.ts';
import { addDays, instant, isTimeOfDay, minutes, timeOfDay } from './time.ts';
import type { WorkingDays } from './working-days.ts';

export interface Period { start: string; end: string }

export interface CalendarDefinition {
  periods: Period[];
  slotMinutes: number;
  capacity: number;
}

export interface Slot {
  date: string;
  start: string;
  end: string;
  startsAt: Date;
  endsAt: Date;
}

type Check = (c: CalendarDefinition) => string[];

const periodsGiven: Check = (c) => (c.periods.length === 0 ? ['at least one opening period is needed'] : []);
const timesWellFormed: Check = (c) => c.periods.flatMap((p, i) =>
  isTimeOfDay(p.start) && isTimeOfDay(p.end) ? [] : [`period ${i + 1}: times must be HH:MM`]);
const periodsForward: Check = (c) => c.periods.flatMap((p, i) =>
  isTimeOfDay(p.start) && isTimeOfDay(p.end) && minutes(p.end) <= minutes(p.start) ? [`period ${i + 1}: ends before it starts`] : []);
const periodsApart: Check = (c) => {
  const ok = c.periods.filter((p) => isTimeOfDay(p.start) && isTimeOfDay(p.end) && minutes(p.end) > minutes(p.start)).sort((a, b) => minutes(a.start) - minutes(b.start));
  return ok.slice(1).flatMap((p, i) => (minutes(p.start) < minutes(ok[i]!.end) ? [`periods ${ok[i]!.start}-${ok[i]!.end} and ${p.start}-${p.end} overlap`] : []));
};
const slotLength: Check = (c) => (Number.isInteger(c.slotMinutes) && c.slotMinutes >= 5 && c.slotMinutes <= 240 ? [] : ['slot length must be 5 to 240 minutes']);
const slotsFit: Check = (c) => c.periods.flatMap((p, i) =>
  isTimeOfDay(p.start) && isTimeOfDay(p.end) && c.slotMinutes > 0 && minutes(p.end) - minutes(p.start) >= c.slotMinutes
    && (minutes(p.end) - minutes(p.start)) % c.slotMinutes !== 0
    ? [`period ${i + 1}: its length is not a whole number of ${c.slotMinutes}-minute slots`]
    : isTimeOfDay(p.start) && isTimeOfDay(p.end) && minutes(p.end) > minutes(p.start) && minutes(p.end) - minutes(p.start) < c.slotMinutes
      ? [`period ${i + 1}: shorter than one slot`] : []);
const capacityPositive: Check = (c) => (Number.isInteger(c.capacity) && c.capacity >= 1 && c.capacity <= 1000 ? [] : ['capacity per slot must be 1 to 1000']);

/** Every rule a calendar must satisfy, in one place. */
export const CALENDAR_CHECKS: ReadonlyArray<[string, Check]> = [
  ['periodsGiven', periodsGiven],
  ['timesWellFormed', timesWellFormed],
  ['periodsForward', periodsForward],
  ['periodsApart', periodsApart],
  ['slotLength', slotLength],
  ['slotsFit', slotsFit],
  ['capacityPositive', capacityPositive],
];

export function validateCalendar(c: CalendarDefinition): void {
  const problems = CALENDAR_CHECKS.flatMap(([, check]) => check(c));
  if (problems.length) throw new AppError('APPOINTMENT_CALENDAR_INVALID', `预约日历有误 / the calendar is invalid: ${problems.join('; ')}`, { problems });
}

/** The slots of a calendar on one date; none on a day that is not a working day. */
export function slotsOn(c: CalendarDefinition, date: string, days: WorkingDays): Slot[] {
  if (!days.isWorkingDay(date)) return [];
  const out: Slot[] = [];
  for (const p of [...c.periods].sort((a, b) => minutes(a.start) - minutes(b.start))) {
    for (let m = minutes(p.start); m + c.slotMinutes <= minutes(p.end); m += c.slotMinutes) {
      const start = timeOfDay(m), end = timeOfDay(m + c.slotMinutes);
      out.push({ date, start, end, startsAt: instant(date, start), endsAt: instant(date, end) });
    }
  }
  return out;
}

/** Bookable dates seen from `today`: the next day up to seven days ahead (R-CA-5). */
export const BOOKING_FIRST_DAY = 1;
export const BOOKING_LAST_DAY = 7;

export function bookableDates(today: string): string[] {
  const out: string[] = [];
  for (let d = BOOKING_FIRST_DAY; d <= BOOKING_LAST_DAY; d++) out.push(addDays(today, d));
  return out;
}
