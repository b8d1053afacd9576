/**
 * The booking rules of R-CA-5 (G 5.1.2 网上预约: 预约控制, 信用管理) as small named checks, run in
 * the order of this table; the first that fails refuses the booking with its code and nothing is
 * stored. Two rules also hold under concurrency in the database, not only here:
 * - the maximum per slot: repository.takePlace (one atomic statement);
 * - one active appointment per ID per item: the partial unique index `appointments_one_active`.
 */
import { AppError } from '../../../kernel/errors.ts';
import { BOOKING_FIRST_DAY, BOOKING_LAST_DAY, slotsOn, type Slot } from './calendar.ts';
import type { Calendar } from './repository.ts';
import { addDays } from './time.ts';
import type { WorkingDays } from './working-days.ts';

export interface BookingFacts {
  today: string;
  date: string;
  start: string;
  calendar: Calendar | null;
  /** The window exists and is open (an agency may close a window without deleting its calendars). */
  windowOpen: boolean;
  days: WorkingDays;
  suspendedUntil: Date | null;
  holdsActiveForItem: boolean;
}

type Rule = (f: BookingFacts) => AppError | null;

const notSuspended: Rule = (f) => (f.suspendedUntil
  ? new AppError('APPOINTMENT_BOOKING_SUSPENDED', `因一个月内超过3次预约未到，网上预约已暂停至 ${f.suspendedUntil.toISOString()} / online booking is suspended after more than three no-shows in a month`, { until: f.suspendedUntil.toISOString() })
  : null);

const dateInRange: Rule = (f) => (f.date >= addDays(f.today, BOOKING_FIRST_DAY) && f.date <= addDays(f.today, BOOKING_LAST_DAY)
  ? null
  : new AppError('APPOINTMENT_DATE_OUT_OF_RANGE', '只能预约次日起7天内的时段 / appointments are booked from the next day up to seven days ahead', { from: addDays(f.today, BOOKING_FIRST_DAY), to: addDays(f.today, BOOKING_LAST_DAY) }));

const outside = (why: string) => new AppError('APPOINTMENT_OUTSIDE_HOURS', `不在工作时间内 / outside working hours: ${why}`);

const calendarOpen: Rule = (f) => (f.calendar?.active && f.windowOpen ? null : outside('this window takes no appointments for this item'));

const workingDay: Rule = (f) => (f.days.isWorkingDay(f.date) ? null : outside(`${f.date} is not a working day`));

const slotInHours: Rule = (f) => (f.calendar && slotsOn(f.calendar, f.date, f.days).some((s) => s.start === f.start)
  ? null : outside(`${f.start} is not the start of a slot`));

const onePerIdPerItem: Rule = (f) => (f.holdsActiveForItem
  ? new AppError('APPOINTMENT_ALREADY_BOOKED', '该事项已有有效预约，请办理完成或取消后再预约 / you already hold an appointment for this item')
  : null);

export const BOOKING_RULES: ReadonlyArray<[string, Rule]> = [
  ['notSuspended', notSuspended],
  ['dateInRange', dateInRange],
  ['calendarOpen', calendarOpen],
  ['workingDay', workingDay],
  ['slotInHours', slotInHours],
  ['onePerIdPerItem', onePerIdPerItem],
];

export function checkBooking(f: BookingFacts): void {
  for (const [, rule] of BOOKING_RULES) {
    const refused = rule(f);
    if (refused) throw refused;
  }
}

/** The slot the facts name (call after checkBooking). */
export function chosenSlot(f: BookingFacts): Slot {
  return slotsOn(f.calendar!, f.date, f.days).find((s) => s.start === f.start)!;
}
