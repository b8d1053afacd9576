/**
 * Demo hall windows (SEED_DEMO): one window at the Hangzhou citizen centre for each agency that
 * has demo items, with a calendar for each of its items (09:00-12:00, 13:30-17:00, 30-minute
 * slots, 4 per slot), so the examples in docs/appointments.md work on a fresh platform.
 * Fixed ids, inserted only when absent: an agency's own changes are never overwritten.
 */
import { DEMO_ITEMS } from '../../../kernel/demo.ts';
import type { Db } from '../../../kernel/db.ts';

export const DEMO_PERIODS = [{ start: '09:00', end: '12:00' }, { start: '13:30', end: '17:00' }];

/** Demo window id per agency: de300000-0000-4000-8000-00000000000<n>. */
export function demoWindowId(n: number): string {
  return `de300000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

export async function seedDemoWindows(db: Db, now: Date): Promise<void> {
  const agencies = [...new Set(DEMO_ITEMS.map((i) => i.agencyCode))];
  await db.tx(async (q) => {
    for (const [n, agency] of agencies.entries()) {
      const windowId = demoWindowId(n + 1);
      await q.query(
        `insert into cases.hall_windows (id, agency_code, hall, name, active, created_at, updated_at) values ($1, $2, '杭州市民中心', $3, true, $4, $4)
         on conflict (id) do nothing`, [windowId, agency, `${n + 1}号窗口`, now]);
      for (const [m, item] of DEMO_ITEMS.filter((i) => i.agencyCode === agency).entries()) {
        await q.query(
          `insert into cases.appointment_calendars (id, window_id, item_id, agency_code, periods, slot_minutes, capacity, active, updated_at)
           values ($1, $2, $3, $4, $5, 30, 4, true, $6) on conflict do nothing`,
          [`de310000-0000-4000-8000-${String(n + 1).padStart(6, '0')}${String(m + 1).padStart(6, '0')}`, windowId, item.id, agency, JSON.stringify(DEMO_PERIODS), now]);
      }
    }
  });
}
