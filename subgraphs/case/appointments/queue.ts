/**
 * The hall queue (R-CA-5, G 5.1.2 大厅联动): at the kiosk an ID card calls up the holder's valid
 * appointments for today and prints a queue ticket for each; walk-ins take an ordinary ticket.
 * Staff at a window call the next ticket:
 *
 *   1. appointment tickets whose slot has begun, earliest slot first (预约号按预约时段优先叫号);
 *   2. then everyone else (walk-ins, and appointment holders who came before their slot) in the
 *      order their tickets were issued.
 *
 * So an appointment holder is never served later than if they had walked in. Two staff calling at
 * once never get the same ticket (FOR UPDATE SKIP LOCKED). A ticket called but not served is
 * ABSENT; for an appointment that is a no-show too (取号不办理, 信用管理).
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../../../kernel/errors.ts';
import { isValidIdNumber, normaliseIdNumber } from '../../../kernel/ids.ts';
import type { Caller } from '../../../kernel/internal-auth.ts';
import type { Queryable } from '../../../kernel/db.ts';
import { idHash, type AppointmentDeps } from './deps.ts';
import { recordNoShow } from './no-shows.ts';
import { findTicket, findWindow, toAppointment, toTicket, type HallWindow, type Ticket, type TicketKind } from './repository.ts';
import { requireHallStaff, staffAgency, type AppointmentAction } from './roles.ts';
import { localDate } from './time.ts';

const PREFIX: Record<TicketKind, string> = { APPOINTMENT: 'Y', WALK_IN: 'X' }; // Y 预约, X 现场

async function nextNumber(q: Queryable, windowId: string, day: string, kind: TicketKind): Promise<string> {
  const { rows } = await q.query<{ last_value: number }>(
    `insert into cases.queue_counters (window_id, day, kind, last_value) values ($1, $2, $3, 1)
     on conflict (window_id, day, kind) do update set last_value = queue_counters.last_value + 1 returning last_value`, [windowId, day, kind]);
  return `${PREFIX[kind]}${String(rows[0]!.last_value).padStart(3, '0')}`;
}

async function issue(q: Queryable, w: HallWindow, kind: TicketKind, now: Date, appointment?: { id: string; startsAt: Date }): Promise<Ticket> {
  const day = localDate(now);
  const number = await nextNumber(q, w.id, day, kind);
  const { rows } = await q.query(
    `insert into cases.queue_tickets (id, window_id, agency_code, day, number, kind, appointment_id, priority_from, status, issued_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, 'WAITING', $9) returning *`,
    [randomUUID(), w.id, w.agencyCode, day, number, kind, appointment?.id ?? null, appointment?.startsAt ?? null, now]);
  return toTicket(rows[0]!);
}

async function staffWindow(d: AppointmentDeps, caller: Caller, windowId: string, action: AppointmentAction): Promise<HallWindow> {
  requireHallStaff(caller, staffAgency(caller), action);
  const w = await findWindow(d.db, windowId);
  if (!w || w.agencyCode !== staffAgency(caller)) throw new AppError('HALL_WINDOW_NOT_FOUND', '窗口不存在 / no such window');
  return w;
}

/** Kiosk: the ID card's valid appointments today at this agency → one ticket each. */
export async function kioskCheckIn(d: AppointmentDeps, caller: Caller, rawIdNumber: string): Promise<Ticket[]> {
  const agency = staffAgency(caller);
  requireHallStaff(caller, agency, 'kioskCheckIn');
  const idNumber = normaliseIdNumber(rawIdNumber);
  if (!isValidIdNumber(idNumber)) throw new AppError('ID_NUMBER_INVALID', '身份证号码有误 / the ID number is invalid');
  const now = d.clock.now();
  return d.db.tx(async (q) => {
    const { rows } = await q.query(
      `select * from cases.appointments where agency_code = $1 and id_hash = $2 and slot_date = $3 and status = 'BOOKED' and ends_at > $4
       order by starts_at for update`, [agency, idHash(d.idKey, idNumber), localDate(now), now]);
    if (rows.length === 0) throw new AppError('APPOINTMENT_NOT_FOUND', '今日没有有效预约 / no valid appointment today for this ID number');
    const tickets: Ticket[] = [];
    for (const a of rows.map(toAppointment)) {
      await q.query(`update cases.appointments set status = 'CHECKED_IN', checked_in_at = $2 where id = $1`, [a.id, now]);
      const w = (await findWindow(q, a.windowId))!;
      tickets.push(await issue(q, w, 'APPOINTMENT', now, a));
    }
    return tickets;
  });
}

/** Kiosk: an ordinary ticket for a window (no appointment). */
export async function takeWalkInTicket(d: AppointmentDeps, caller: Caller, windowId: string): Promise<Ticket> {
  const w = await staffWindow(d, caller, windowId, 'takeWalkInTicket');
  if (!w.active) throw new AppError('HALL_WINDOW_NOT_FOUND', '窗口未开放 / the window is closed');
  return d.db.tx((q) => issue(q, w, 'WALK_IN', d.clock.now()));
}

/** Staff at a window: call the next ticket by priority; null when nobody waits. */
export async function callNext(d: AppointmentDeps, caller: Caller, windowId: string): Promise<Ticket | null> {
  const w = await staffWindow(d, caller, windowId, 'callNext');
  const now = d.clock.now();
  return d.db.tx(async (q) => {
    const { rows } = await q.query(
      `update cases.queue_tickets set status = 'CALLED', called_at = $3, called_by = $4
       where id = (
         select id from cases.queue_tickets
         where window_id = $1 and day = $2 and status = 'WAITING'
         order by (kind = 'APPOINTMENT' and priority_from <= $3) desc,
                  case when kind = 'APPOINTMENT' and priority_from <= $3 then priority_from end,
                  issued_at, number
         limit 1 for update skip locked)
       returning *`, [w.id, localDate(now), now, (caller as { sub: string }).sub]);
    return rows[0] ? toTicket(rows[0]) : null;
  });
}

/** Staff: the called person was served (DONE) or did not come to the window (ABSENT). */
export async function finishTicket(d: AppointmentDeps, caller: Caller, id: string, served: boolean): Promise<Ticket> {
  const agency = staffAgency(caller);
  requireHallStaff(caller, agency, 'finishTicket');
  const now = d.clock.now();
  return d.db.tx(async (q) => {
    const t = await findTicket(q, id, true);
    if (!t || t.agencyCode !== agency) throw new AppError('QUEUE_TICKET_NOT_FOUND', '号单不存在 / no such ticket');
    if (t.status !== 'CALLED') throw new AppError('QUEUE_TICKET_NOT_CALLED', '只能办结已叫号的号单 / only a called ticket can be finished', { status: t.status });
    const { rows } = await q.query('update cases.queue_tickets set status = $2, finished_at = $3 where id = $1 returning *', [t.id, served ? 'DONE' : 'ABSENT', now]);
    if (t.appointmentId) {
      const { rows: appt } = await q.query(
        `update cases.appointments set status = $2, finished_at = $3 where id = $1 and status = 'CHECKED_IN' returning applicant_id, starts_at`,
        [t.appointmentId, served ? 'DONE' : 'NO_SHOW', now]);
      if (!served && appt[0]) await recordNoShow(q, d, t.appointmentId, String(appt[0].applicant_id), new Date(appt[0].starts_at as string | Date), now);
    }
    return toTicket(rows[0]!);
  });
}

/** Staff: today's tickets at a window, in calling order for those still waiting. */
export async function windowQueue(d: AppointmentDeps, caller: Caller, windowId: string): Promise<Ticket[]> {
  const w = await staffWindow(d, caller, windowId, 'viewQueue');
  const { rows } = await d.db.query('select * from cases.queue_tickets where window_id = $1 and day = $2 order by issued_at, number', [w.id, localDate(d.clock.now())]);
  return rows.map(toTicket);
}

