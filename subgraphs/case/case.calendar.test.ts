import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCalendar, cstDate, loadCalendar, parseCalendar } from '../../kernel/calendar.ts';
import { NATIONAL_2026 } from '../../kernel/holidays-2026.ts';

const cal = createCalendar();
const at = (cst: string) => new Date(`${cst}+08:00`);
const endOf = (date: string) => new Date(`${date}T23:59:59.999+08:00`);

describe('case.calendar', () => {
  test('2026 national calendar: holidays off, the worked weekend days on (State Council notice of 4 Nov 2025)', () => {
    expect(NATIONAL_2026.holidays).toHaveLength(33);
    for (const d of ['2026-01-01', '2026-02-16', '2026-02-23', '2026-04-06', '2026-05-05', '2026-06-19', '2026-09-25', '2026-10-07']) expect(cal.isWorkingDay(d)).toBe(false);
    for (const d of ['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10']) expect(cal.isWorkingDay(d)).toBe(true);
    expect(cal.isWorkingDay('2026-03-07')).toBe(false); // an ordinary Saturday
    expect(cal.isWorkingDay('2026-03-09')).toBe(true);  // an ordinary Monday
  });

  test('addWorkingDays: the start day does not count; the deadline is the end of the last working day, CST', () => {
    expect(cal.addWorkingDays(at('2026-03-02T10:00:00'), 5)).toEqual(endOf('2026-03-09'));
    expect(cal.addWorkingDays(at('2026-03-02T10:00:00'), 0)).toEqual(endOf('2026-03-02'));
    // National Day: 1–7 Oct off, Sat 10 Oct worked.
    expect(cal.addWorkingDays(at('2026-09-30T09:00:00'), 3)).toEqual(endOf('2026-10-10'));
    // Spring Festival: Sat 14 Feb worked, 15–23 Feb off.
    expect(cal.addWorkingDays(at('2026-02-13T16:00:00'), 2)).toEqual(endOf('2026-02-24'));
    // 00:30 CST on 3 March is still 2 March in UTC: days are counted in China time.
    expect(cstDate(at('2026-03-03T00:30:00'))).toBe('2026-03-03');
  });

  test('workingDaysBetween counts the working days a pause took', () => {
    expect(cal.workingDaysBetween(at('2026-03-02T10:00:00'), at('2026-03-02T17:00:00'))).toBe(0);
    expect(cal.workingDaysBetween(at('2026-03-06T10:00:00'), at('2026-03-09T10:00:00'))).toBe(1); // Fri → Mon
    expect(cal.workingDaysBetween(at('2026-09-30T10:00:00'), at('2026-10-09T10:00:00'))).toBe(2); // 8, 9 Oct
  });

  test('configurable: a calendar file adds days; a malformed one is CONFIG_INVALID naming the variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cal-'));
    const file = join(dir, 'cal.json');
    writeFileSync(file, JSON.stringify({ holidays: ['2027-01-01', '2026-03-10'], workdays: [] }));
    const c = loadCalendar(file);
    expect(c.isWorkingDay('2026-03-10')).toBe(false);
    expect(c.isWorkingDay('2026-10-01')).toBe(false); // the shipped calendar still applies
    expect(() => parseCalendar('{"holidays":["2026-13-45x"]}', 'x.json')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => parseCalendar('not json', 'x.json')).toThrow(/CASE_HOLIDAYS_FILE/);
  });
});
