/**
 * Which days a hall is open. Appointments are only offered on working days (R-CA-5, G 5.1.2:
 * 从第二天开始的一周内的工作时间). The case service's holiday calendar (R-CA-8) is the source when it
 * is wired in; this interface keeps the appointment code independent of how it is built.
 */
import { weekday } from './time.ts';

export interface WorkingDays {
  /** `date` is a Beijing calendar date `YYYY-MM-DD`. */
  isWorkingDay(date: string): boolean;
}

/** Monday to Friday; no public holidays. The fallback when no holiday calendar is given. */
export const weekdaysOnly: WorkingDays = {
  isWorkingDay: (date) => {
    const d = weekday(date);
    return d !== 0 && d !== 6;
  },
};
