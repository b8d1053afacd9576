/**
 * Booking and cancelling online (R-CA-5). Booking needs a logged-in person; the rules are in
 * rules.ts. The ID number comes from the IdP and is stored only as an HMAC (deps.idHash) and
 * masked. Cancelling frees the place, so a closed slot opens again.
 */
import { randomUUID } from 'node:crypto';
import { pgCode } from '../../../kernel/db.ts';
import { AppError } from '../../../kernel/errors.ts';
import { maskIdNumber } from '../../../kernel/ids.ts';
import { requirePerson, type Caller } from '../../../kernel/internal-auth.ts';
import { idHash, type AppointmentDeps } from './deps.ts';
import {
  activeAppointmentExists, activeSuspension, findAppointment, findCalendar, findWindow, releasePlace, takePlace, toAppointment, type Appointment,
} from './repository.ts';
import { checkBooking, chosenSlot, type BookingFacts } from './rules.ts';
import { addDays, instant, isDate, isTimeOfDay, localDate } from './time.ts';

export interface BookInput { windowId: string; itemId: string; date: string; start: string }

export async function book(d: AppointmentDeps, caller: Caller, input: BookInput): Promise<Appointment> {
  const person = requirePerson(caller);
  const bad = [...(isDate(input.date) ? [] : ['date']), ...(isTimeOfDay(input.start) ? [] : ['start'])];
  if (bad.length) throw new AppError('BAD_INPUT', '日期为 YYYY-MM-DD，时间为 HH:MM / date is YYYY-MM-DD, start is HH:MM', { fields: bad });
  const now = d.clock.now();
  const account = await d.directory.get(person.sub).catch((e: unknown) => {
    if (e instanceof AppError) throw e;
    d.log.error({ err: e }, 'applicant lookup failed');
    throw new AppError('SERVICE_UNAVAILABLE', '身份认证服务暂不可用，请稍后再试 / the identity provider is unreachable; retry later');
  });
  const hash = idHash(d.idKey, account.idNumber);
  const calendar = await findCalendar(d.db, input.windowId, input.itemId);
  const facts: BookingFacts = {
    today: localDate(now), date: input.date, start: input.start, calendar, days: d.days,
    windowOpen: Boolean((await findWindow(d.db, input.windowId))?.active),
    suspendedUntil: await activeSuspension(d.db, person.sub, now),
    holdsActiveForItem: await activeAppointmentExists(d.db, hash, input.itemId),
  };
  checkBooking(facts);
  const slot = chosenSlot(facts);
  const cal = calendar!;
  const item = (await d.db.query<{ name: string }>('select name from cases.items where id = $1', [cal.itemId])).rows[0];
  try {
    return await d.db.tx(async (q) => {
      if (!await takePlace(q, cal.id, slot.startsAt, cal.capacity)) {
        throw new AppError('APPOINTMENT_SLOT_FULL', '该时段预约已满 / this slot is fully booked');
      }
      const { rows } = await q.query(
        `insert into cases.appointments (id, calendar_id, window_id, item_id, item_name, agency_code, applicant_id, applicant_name,
           id_hash, id_masked, slot_date, slot_start, slot_end, starts_at, ends_at, status, booked_at, remind_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'BOOKED', $16, $17) returning *`,
        [randomUUID(), cal.id, cal.windowId, cal.itemId, item?.name ?? cal.itemId, cal.agencyCode, person.sub, person.name,
          hash, maskIdNumber(account.idNumber), slot.date, slot.start, slot.end, slot.startsAt, slot.endsAt, now,
          instant(addDays(slot.date, -1), d.reminderTime)]);
      return toAppointment(rows[0]!);
    });
  } catch (e) {
    // Two bookings by the same ID for the same item at once: the index lets one through.
    if (pgCode(e) === '23505') throw new AppError('APPOINTMENT_ALREADY_BOOKED', '该事项已有有效预约 / you already hold an appointment for this item');
    throw e;
  }
}

/** The applicant cancels before the slot begins (取消预约); the place is freed. */
export async function cancel(d: AppointmentDeps, caller: Caller, id: string): Promise<Appointment> {
  const person = requirePerson(caller);
  const now = d.clock.now();
  return d.db.tx(async (q) => {
    const a = await findAppointment(q, id, true);
    if (!a || a.applicantId !== person.sub) throw new AppError('APPOINTMENT_NOT_FOUND', '预约不存在 / no such appointment');
    if (a.status !== 'BOOKED' || now >= a.startsAt) {
      throw new AppError('APPOINTMENT_NOT_CANCELLABLE', '该预约已不能取消 / this appointment can no longer be cancelled', { status: a.status });
    }
    const { rows } = await q.query(`update cases.appointments set status = 'CANCELLED', cancelled_at = $2 where id = $1 returning *`, [a.id, now]);
    await releasePlace(q, a.calendarId, a.startsAt);
    return toAppointment(rows[0]!);
  });
}
