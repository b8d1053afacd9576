/** SQL for appointments (schema `cases`). Rows are mapped to records here and nowhere else. */
import type { Queryable } from '../../../kernel/db.ts';
import type { Period } from './calendar.ts';

export interface HallWindow { id: string; agencyCode: string; hall: string; name: string; active: boolean }

export interface Calendar {
  id: string; windowId: string; itemId: string; agencyCode: string;
  periods: Period[]; slotMinutes: number; capacity: number; active: boolean;
}

export type AppointmentStatus = 'BOOKED' | 'CHECKED_IN' | 'DONE' | 'CANCELLED' | 'NO_SHOW' | 'EXPIRED';

export interface Appointment {
  id: string; calendarId: string; windowId: string; itemId: string; itemName: string; agencyCode: string;
  applicantId: string; applicantName: string; idMasked: string;
  date: string; start: string; end: string; startsAt: Date; endsAt: Date;
  status: AppointmentStatus; bookedAt: Date; cancelledAt: Date | null; checkedInAt: Date | null; finishedAt: Date | null;
  remindAt: Date; remindedAt: Date | null;
}

export type TicketKind = 'APPOINTMENT' | 'WALK_IN';
export type TicketStatus = 'WAITING' | 'CALLED' | 'DONE' | 'ABSENT' | 'EXPIRED';

export interface Ticket {
  id: string; windowId: string; agencyCode: string; day: string; number: string; kind: TicketKind;
  appointmentId: string | null; priorityFrom: Date | null; status: TicketStatus;
  issuedAt: Date; calledAt: Date | null; calledBy: string | null; finishedAt: Date | null;
}

const d = (v: unknown) => (v instanceof Date ? v : new Date(String(v)));
const dn = (v: unknown) => (v === null || v === undefined ? null : d(v));
/** `date` columns come back as Date (pg) or string (PGlite); both mean a calendar date. */
const day = (v: unknown) => (v instanceof Date ? `${v.getFullYear()}-${String(v.getMonth() + 1).padStart(2, '0')}-${String(v.getDate()).padStart(2, '0')}` : String(v).slice(0, 10));

type Row = Record<string, unknown>;

export const toWindow = (r: Row): HallWindow => ({
  id: String(r.id), agencyCode: String(r.agency_code), hall: String(r.hall), name: String(r.name), active: Boolean(r.active),
});

export const toCalendar = (r: Row): Calendar => ({
  id: String(r.id), windowId: String(r.window_id), itemId: String(r.item_id), agencyCode: String(r.agency_code),
  periods: (typeof r.periods === 'string' ? JSON.parse(r.periods) : r.periods) as Period[],
  slotMinutes: Number(r.slot_minutes), capacity: Number(r.capacity), active: Boolean(r.active),
});

export const toAppointment = (r: Row): Appointment => ({
  id: String(r.id), calendarId: String(r.calendar_id), windowId: String(r.window_id), itemId: String(r.item_id),
  itemName: String(r.item_name), agencyCode: String(r.agency_code), applicantId: String(r.applicant_id),
  applicantName: String(r.applicant_name), idMasked: String(r.id_masked),
  date: day(r.slot_date), start: String(r.slot_start), end: String(r.slot_end), startsAt: d(r.starts_at), endsAt: d(r.ends_at),
  status: r.status as AppointmentStatus, bookedAt: d(r.booked_at), cancelledAt: dn(r.cancelled_at), checkedInAt: dn(r.checked_in_at),
  finishedAt: dn(r.finished_at), remindAt: d(r.remind_at), remindedAt: dn(r.reminded_at),
});

export const toTicket = (r: Row): Ticket => ({
  id: String(r.id), windowId: String(r.window_id), agencyCode: String(r.agency_code), day: day(r.day), number: String(r.number),
  kind: r.kind as TicketKind, appointmentId: r.appointment_id ? String(r.appointment_id) : null, priorityFrom: dn(r.priority_from),
  status: r.status as TicketStatus, issuedAt: d(r.issued_at), calledAt: dn(r.called_at), calledBy: r.called_by ? String(r.called_by) : null,
  finishedAt: dn(r.finished_at),
});

export async function findWindow(q: Queryable, id: string): Promise<HallWindow | null> {
  if (!isUuid(id)) return null;
  const { rows } = await q.query('select * from cases.hall_windows where id = $1', [id]);
  return rows[0] ? toWindow(rows[0]) : null;
}

export async function listWindows(q: Queryable, agencyCode: string): Promise<HallWindow[]> {
  const { rows } = await q.query('select * from cases.hall_windows where agency_code = $1 order by hall, name, id', [agencyCode]);
  return rows.map(toWindow);
}

export async function findCalendar(q: Queryable, windowId: string, itemId: string): Promise<Calendar | null> {
  if (!isUuid(windowId)) return null;
  const { rows } = await q.query('select * from cases.appointment_calendars where window_id = $1 and item_id = $2', [windowId, itemId]);
  return rows[0] ? toCalendar(rows[0]) : null;
}

export async function findCalendarById(q: Queryable, id: string): Promise<Calendar | null> {
  const { rows } = await q.query('select * from cases.appointment_calendars where id = $1', [id]);
  return rows[0] ? toCalendar(rows[0]) : null;
}

export async function calendarsForItem(q: Queryable, itemId: string): Promise<Calendar[]> {
  const { rows } = await q.query(
    `select c.* from cases.appointment_calendars c join cases.hall_windows w on w.id = c.window_id
     where c.item_id = $1 and c.active and w.active order by w.hall, w.name, c.id`, [itemId]);
  return rows.map(toCalendar);
}

/** Booking counts of a calendar's slots between two instants. */
export async function slotCounts(q: Queryable, calendarId: string, from: Date, to: Date): Promise<Map<number, number>> {
  const { rows } = await q.query<{ starts_at: unknown; booked: number }>(
    'select starts_at, booked from cases.appointment_slots where calendar_id = $1 and starts_at >= $2 and starts_at < $3', [calendarId, from, to]);
  return new Map(rows.map((r) => [d(r.starts_at).getTime(), Number(r.booked)]));
}

/**
 * Take one place in a slot if one is left: one statement, so the row lock orders concurrent
 * bookers and exactly `capacity` of them succeed. False when the slot is full.
 */
export async function takePlace(q: Queryable, calendarId: string, startsAt: Date, capacity: number): Promise<boolean> {
  const r = await q.query(
    `insert into cases.appointment_slots (calendar_id, starts_at, booked) values ($1, $2, 1)
     on conflict (calendar_id, starts_at) do update set booked = appointment_slots.booked + 1
     where appointment_slots.booked < $3
     returning booked`, [calendarId, startsAt, capacity]);
  return r.rows.length === 1;
}

export async function releasePlace(q: Queryable, calendarId: string, startsAt: Date): Promise<void> {
  await q.query('update cases.appointment_slots set booked = booked - 1 where calendar_id = $1 and starts_at = $2 and booked > 0', [calendarId, startsAt]);
}

export async function findAppointment(q: Queryable, id: string, forUpdate = false): Promise<Appointment | null> {
  if (!isUuid(id)) return null;
  const { rows } = await q.query(`select * from cases.appointments where id = $1${forUpdate ? ' for update' : ''}`, [id]);
  return rows[0] ? toAppointment(rows[0]) : null;
}

export async function activeAppointmentExists(q: Queryable, idHashValue: string, itemId: string): Promise<boolean> {
  const { rows } = await q.query(`select 1 from cases.appointments where id_hash = $1 and item_id = $2 and status in ('BOOKED', 'CHECKED_IN')`, [idHashValue, itemId]);
  return rows.length > 0;
}

export async function listByApplicant(q: Queryable, applicantId: string): Promise<Appointment[]> {
  const { rows } = await q.query('select * from cases.appointments where applicant_id = $1 order by starts_at desc, id', [applicantId]);
  return rows.map(toAppointment);
}

export async function activeSuspension(q: Queryable, applicantId: string, now: Date): Promise<Date | null> {
  const { rows } = await q.query<{ until: unknown }>(
    'select max(suspended_until) as until from cases.booking_suspensions where applicant_id = $1 and suspended_until > $2', [applicantId, now]);
  return dn(rows[0]?.until);
}

export async function noShowsIn(q: Queryable, applicantId: string, month: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>('select count(*)::int as n from cases.appointment_no_shows where applicant_id = $1 and month = $2', [applicantId, month]);
  return Number(rows[0]?.n ?? 0);
}

export async function findTicket(q: Queryable, id: string, forUpdate = false): Promise<Ticket | null> {
  if (!isUuid(id)) return null;
  const { rows } = await q.query(`select * from cases.queue_tickets where id = $1${forUpdate ? ' for update' : ''}`, [id]);
  return rows[0] ? toTicket(rows[0]) : null;
}

export async function ticketForAppointment(q: Queryable, appointmentId: string): Promise<Ticket | null> {
  const { rows } = await q.query('select * from cases.queue_tickets where appointment_id = $1', [appointmentId]);
  return rows[0] ? toTicket(rows[0]) : null;
}

export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}
