/**
 * No-shows and the credit rule (R-CA-5, G 5.1.2 信用管理): an appointment whose slot ends without
 * a check-in, or whose ticket is called and not answered (取号不办理), is a no-show. More than
 * three no-shows in one calendar month (by the slot's Beijing date) suspend online booking for
 * deps.suspendDays from the moment the fourth is recorded. Recorded once per appointment (its id
 * is the key), so a sweep that runs twice or on two replicas counts nothing twice.
 */
import type { Queryable } from '../../../kernel/db.ts';
import type { AppointmentDeps } from './deps.ts';
import { noShowsIn } from './repository.ts';
import { localDate, localMonth } from './time.ts';

export const NO_SHOWS_ALLOWED_PER_MONTH = 3;

export async function recordNoShow(q: Queryable, d: Pick<AppointmentDeps, 'suspendDays'>, appointmentId: string, applicantId: string, startsAt: Date, now: Date): Promise<void> {
  const month = localMonth(startsAt);
  const r = await q.query('insert into cases.appointment_no_shows (appointment_id, applicant_id, month, at) values ($1, $2, $3, $4) on conflict do nothing returning 1',
    [appointmentId, applicantId, month, now]);
  if (r.rows.length === 0) return;
  if (await noShowsIn(q, applicantId, month) > NO_SHOWS_ALLOWED_PER_MONTH) {
    await q.query(
      `insert into cases.booking_suspensions (applicant_id, month, suspended_at, suspended_until) values ($1, $2, $3, $4)
       on conflict (applicant_id, month) do nothing`,
      [applicantId, month, now, new Date(now.getTime() + d.suspendDays * 86_400_000)]);
  }
}

/** Appointments whose slot has ended without a check-in become no-shows. Returns how many. */
export async function sweepMissed(d: AppointmentDeps, batch = 200): Promise<number> {
  const now = d.clock.now();
  return d.db.tx(async (q) => {
    const { rows } = await q.query<{ id: string; applicant_id: string; starts_at: string | Date }>(
      `update cases.appointments set status = 'NO_SHOW', finished_at = $1
       where id in (select id from cases.appointments where status = 'BOOKED' and ends_at <= $1 order by ends_at limit ${batch} for update skip locked)
       returning id, applicant_id, starts_at`, [now]);
    for (const r of rows) await recordNoShow(q, d, r.id, r.applicant_id, new Date(r.starts_at), now);
    return rows.length;
  });
}

/**
 * Tickets still waiting (or called and never finished) when their day is over are closed as
 * EXPIRED, and so are their appointments: the hall did not serve them, which is no fault of the
 * applicant (no no-show), and the ID may book the item again.
 */
export async function closeStaleTickets(d: AppointmentDeps): Promise<number> {
  const now = d.clock.now();
  return d.db.tx(async (q) => {
    const { rows } = await q.query<{ appointment_id: string | null }>(
      `update cases.queue_tickets set status = 'EXPIRED', finished_at = $2 where status in ('WAITING', 'CALLED') and day < $1 returning appointment_id`,
      [localDate(now), now]);
    const ids = rows.map((r) => r.appointment_id).filter((x): x is string => Boolean(x));
    if (ids.length) await q.query(`update cases.appointments set status = 'EXPIRED', finished_at = $2 where id = any($1::uuid[]) and status = 'CHECKED_IN'`, [ids, now]);
    return rows.length;
  });
}
