/**
 * Appointment tables in the `cases` schema (R-CA-5), applied by kernel/migrate.ts as their own
 * list (ids `appt_…`, sorted after the case service's own). Forward-only: never edit one that
 * has been applied; add `appt_002_…`.
 *
 * - hall_windows: the agency's service windows in its hall.
 * - appointment_calendars: per window and item, opening periods, slot length and the maximum
 *   appointments per slot.
 * - appointment_slots: booking counts of slots that have bookings. `booked` only rises through
 *   `insert … on conflict do update … where booked < capacity`, a single atomic statement, so
 *   concurrent bookings for the last place cannot both win.
 * - appointments: `id_hash` is an HMAC of the applicant's ID number (the kiosk finds
 *   appointments by ID card without the platform storing the number in clear); the partial unique
 *   index is "one active appointment per ID per item" under concurrency.
 * - appointment_no_shows / booking_suspensions: the credit rule (more than three in a month).
 * - queue_tickets / queue_counters: hall queue numbers per window and day.
 */
import type { Migration } from '../../../kernel/migrate.ts';

export const appointmentMigrations: Migration[] = [
  {
    id: 'appt_001_init',
    sql: `
create table hall_windows (
  id uuid primary key,
  agency_code text not null,
  hall text not null,
  name text not null,
  active boolean not null default true,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index hall_windows_agency on hall_windows (agency_code, hall, name);

create table appointment_calendars (
  id uuid primary key,
  window_id uuid not null references hall_windows (id),
  item_id text not null,
  agency_code text not null,
  periods jsonb not null,
  slot_minutes integer not null check (slot_minutes between 5 and 240),
  capacity integer not null check (capacity >= 1),
  active boolean not null default true,
  updated_at timestamptz not null,
  unique (window_id, item_id)
);
create index appointment_calendars_item on appointment_calendars (item_id);

create table appointment_slots (
  calendar_id uuid not null references appointment_calendars (id),
  starts_at timestamptz not null,
  booked integer not null check (booked >= 0),
  primary key (calendar_id, starts_at)
);

create table appointments (
  id uuid primary key,
  calendar_id uuid not null references appointment_calendars (id),
  window_id uuid not null references hall_windows (id),
  item_id text not null,
  item_name text not null,
  agency_code text not null,
  applicant_id text not null,
  applicant_name text not null,
  id_hash text not null,
  id_masked text not null,
  slot_date date not null,
  slot_start text not null,
  slot_end text not null,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  status text not null check (status in ('BOOKED', 'CHECKED_IN', 'DONE', 'CANCELLED', 'NO_SHOW', 'EXPIRED')),
  booked_at timestamptz not null,
  cancelled_at timestamptz,
  checked_in_at timestamptz,
  finished_at timestamptz,
  remind_at timestamptz not null,
  reminder_claimed_until timestamptz,
  reminded_at timestamptz,
  reminder_result text
);
create unique index appointments_one_active on appointments (id_hash, item_id) where status in ('BOOKED', 'CHECKED_IN');
create index appointments_applicant on appointments (applicant_id, starts_at desc);
create index appointments_kiosk on appointments (agency_code, id_hash, slot_date);
create index appointments_due on appointments (status, ends_at);
create index appointments_remind on appointments (remind_at) where reminded_at is null and status = 'BOOKED';

create table appointment_no_shows (
  appointment_id uuid primary key references appointments (id),
  applicant_id text not null,
  month text not null,
  at timestamptz not null
);
create index appointment_no_shows_month on appointment_no_shows (applicant_id, month);

create table booking_suspensions (
  applicant_id text not null,
  month text not null,
  suspended_at timestamptz not null,
  suspended_until timestamptz not null,
  primary key (applicant_id, month)
);

create table queue_counters (
  window_id uuid not null references hall_windows (id),
  day date not null,
  kind text not null,
  last_value integer not null,
  primary key (window_id, day, kind)
);

create table queue_tickets (
  id uuid primary key,
  window_id uuid not null references hall_windows (id),
  agency_code text not null,
  day date not null,
  number text not null,
  kind text not null check (kind in ('APPOINTMENT', 'WALK_IN')),
  appointment_id uuid unique references appointments (id),
  priority_from timestamptz,
  status text not null check (status in ('WAITING', 'CALLED', 'DONE', 'ABSENT', 'EXPIRED')),
  issued_at timestamptz not null,
  called_at timestamptz,
  called_by text,
  finished_at timestamptz,
  unique (window_id, day, number)
);
create index queue_tickets_waiting on queue_tickets (window_id, day, status, issued_at);
`,
  },
];
