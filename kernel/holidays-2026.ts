/**
 * The 2026 national holiday calendar (R-CA-8: limits count working days). Source: 国务院办公厅关于
 * 2026年部分节假日安排的通知 (State Council General Office, 4 November 2025, published by Xinhua;
 * e.g. https://politics.gmw.cn/2025-11/04/content_38391083.htm). `holidays` are days off that
 * would otherwise be working days (the weekend days inside a holiday are off anyway, listed for
 * completeness); `workdays` are the weekend days worked instead (调休上班).
 */
export interface HolidayCalendarData {
  /** YYYY-MM-DD days off. */
  holidays: string[];
  /** YYYY-MM-DD weekend days that are working days. */
  workdays: string[];
}

const range = (from: string, days: number): string[] =>
  Array.from({ length: days }, (_, i) => new Date(Date.parse(`${from}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10));

export const NATIONAL_2026: HolidayCalendarData = {
  holidays: [
    ...range('2026-01-01', 3),  // 元旦 1月1日至3日
    ...range('2026-02-15', 9),  // 春节 2月15日至23日
    ...range('2026-04-04', 3),  // 清明节 4月4日至6日
    ...range('2026-05-01', 5),  // 劳动节 5月1日至5日
    ...range('2026-06-19', 3),  // 端午节 6月19日至21日
    ...range('2026-09-25', 3),  // 中秋节 9月25日至27日
    ...range('2026-10-01', 7),  // 国庆节 10月1日至7日
  ],
  workdays: ['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10'],
};
