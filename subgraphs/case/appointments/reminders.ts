/**
 * Reminders (R-CA-5, G 5.1.2 预约提醒): on the day before the appointment, from
 * deps.reminderTime (Beijing), an SMS through the notifier tells the applicant when and where,
 * and how to cancel. The mobile number is read from the IdP when the reminder goes out (it may
 * have changed since booking).
 *
 * Each due appointment is first claimed for a few minutes (FOR UPDATE SKIP LOCKED), so replicas
 * never send the same reminder at once; the send happens outside any transaction; only then is it
 * marked sent. A failed send is retried when the claim lapses: at least once, never lost.
 */
import type { AppointmentDeps } from './deps.ts';
import { findWindow, toAppointment, type Appointment } from './repository.ts';

const CLAIM_MS = 5 * 60_000;

export function reminderText(a: Appointment, place: string): string {
  return `【一网】您已预约${a.date} ${a.start}-${a.end}在${place}办理“${a.itemName}”，请携带身份证按时到大厅取号；如不能前往，请提前在网上取消预约。`
    + ` / Reminder: your appointment for "${a.itemName}" is on ${a.date} ${a.start}-${a.end} at ${place}. Bring your ID card; cancel online if you cannot come.`;
}

export async function sendDueReminders(d: AppointmentDeps, batch = 50): Promise<number> {
  const now = d.clock.now();
  const { rows } = await d.db.query(
    `update cases.appointments set reminder_claimed_until = $2
     where id in (
       select id from cases.appointments
       where status = 'BOOKED' and reminded_at is null and remind_at <= $1 and starts_at > $1
         and (reminder_claimed_until is null or reminder_claimed_until <= $1)
       order by remind_at limit ${batch} for update skip locked)
     returning *`, [now, new Date(now.getTime() + CLAIM_MS)]);
  let sent = 0;
  for (const a of rows.map(toAppointment)) {
    try {
      const account = await d.directory.get(a.applicantId);
      let result = 'no-mobile';
      if (account.mobile) {
        const w = await findWindow(d.db, a.windowId);
        const place = w ? `${w.hall}${w.name}` : '政务服务大厅';
        await d.notifier.send({
          to: account.mobile, template: 'appointment.reminder', text: reminderText(a, place),
          params: { item: a.itemName, date: a.date, start: a.start, end: a.end, place },
        });
        result = 'sent';
        sent++;
      } else {
        d.log.warn({ appointment: a.id }, 'appointment reminder not sent: the account has no mobile number');
      }
      await d.db.query('update cases.appointments set reminded_at = $2, reminder_result = $3 where id = $1', [a.id, d.clock.now(), result]);
    } catch (e) {
      d.log.error({ err: e, appointment: a.id }, 'appointment reminder failed; retried when its claim lapses');
    }
  }
  return sent;
}
