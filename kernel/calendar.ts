/**
 * Working days (R-CA-8): legal time limits count working days on the national holiday calendar,
 * in China Standard Time (UTC+8, no daylight saving). The day a clock starts is not counted
 * (Administrative Licensing Law art. 82 by analogy with the Civil Code's rule on periods); a
 * deadline is the end (23:59:59.999 CST) of its last working day. Shared by every service that
 * counts working days: case deadlines (R-CA-8) and the follow-up of complaints and bad ratings (R-EV).
 */
import { readFileSync } from 'node:fs';
import { AppError } from './errors.ts';
import { NATIONAL_2026, type HolidayCalendarData } from './holidays-2026.ts';

const DAY = 86_400_000;
const CST = 8 * 3_600_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export interface WorkingCalendar {
  isWorkingDay(date: string): boolean;
  /** End of the `n`th working day after the day of `from` (n = 0: the end of that same day). */
  addWorkingDays(from: Date, n: number): Date;
  /** Working days d with day(a) < d ≤ day(b): how much a pause from a to b costs the clock. */
  workingDaysBetween(a: Date, b: Date): number;
}

/** The calendar date (YYYY-MM-DD) of an instant in China Standard Time. */
export const cstDate = (t: Date): string => new Date(t.getTime() + CST).toISOString().slice(0, 10);
const endOfCstDay = (date: string): Date => new Date(Date.parse(`${date}T00:00:00Z`) - CST + DAY - 1);
const nextDate = (date: string): string => new Date(Date.parse(`${date}T00:00:00Z`) + DAY).toISOString().slice(0, 10);

export function createCalendar(data: HolidayCalendarData = NATIONAL_2026): WorkingCalendar {
  const off = new Set(data.holidays);
  const on = new Set(data.workdays);
  const isWorkingDay = (date: string) => {
    if (on.has(date)) return true;
    if (off.has(date)) return false;
    const dow = new Date(`${date}T00:00:00Z`).getUTCDay();
    return dow !== 0 && dow !== 6;
  };
  return {
    isWorkingDay,
    addWorkingDays(from, n) {
      let d = cstDate(from);
      for (let left = n; left > 0;) {
        d = nextDate(d);
        if (isWorkingDay(d)) left--;
      }
      return endOfCstDay(d);
    },
    workingDaysBetween(a, b) {
      let n = 0;
      const end = cstDate(b);
      for (let d = nextDate(cstDate(a)); d <= end; d = nextDate(d)) if (isWorkingDay(d)) n++;
      return n;
    },
  };
}

/** Parse and check a calendar file: CONFIG_INVALID names what is wrong. */
export function parseCalendar(text: string, source: string): HolidayCalendarData {
  let v: unknown;
  try { v = JSON.parse(text); } catch { throw new AppError('CONFIG_INVALID', `invalid configuration: CASE_HOLIDAYS_FILE ${source} is not JSON`); }
  const o = v as Partial<HolidayCalendarData>;
  const ok = (a: unknown): a is string[] => Array.isArray(a) && a.every((x) => typeof x === 'string' && DATE.test(x) && !Number.isNaN(Date.parse(x)));
  if (!ok(o.holidays) || !ok(o.workdays ?? [])) {
    throw new AppError('CONFIG_INVALID', `invalid configuration: CASE_HOLIDAYS_FILE ${source} needs {"holidays":["YYYY-MM-DD",…],"workdays":[…]}`);
  }
  return { holidays: o.holidays, workdays: o.workdays ?? [] };
}

/** The shipped national calendar, plus the operator's file (other years, local adjustments). */
export function loadCalendar(file: string | undefined): WorkingCalendar {
  if (!file) return createCalendar();
  const extra = parseCalendar(readFileSync(file, 'utf8'), file);
  return createCalendar({ holidays: [...NATIONAL_2026.holidays, ...extra.holidays], workdays: [...NATIONAL_2026.workdays, ...extra.workdays] });
}
