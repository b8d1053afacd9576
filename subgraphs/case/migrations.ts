/**
 * Schema `cases` (not `case`: an SQL keyword). Forward-only; see kernel/migrate.ts.
 *
 * - items: the local replica of service items, fed by `item.upserted` events (the case service
 *   never reads the item schema). Only the fields a case needs.
 * - cases: one application (办件). `case_number` is sized an..50 (standards.md: widths vary
 *   between sources). (applicant_id, idempotency_key) is unique so a retried submit finds its case.
 * - case_steps: the append-only step log (R-CA-11); a trigger refuses UPDATE, DELETE and TRUNCATE,
 *   so not even a bug in this service can rewrite history.
 * - case_number_sequences: the daily counter per region behind case numbers.
 * - case_licences: licences issued for a case (from `licence.issued`).
 */
import type { Migration } from '../../kernel/migrate.ts';
import { EVENT_TABLES_SQL } from '../../kernel/events.ts';

export const CASE_SCHEMA = 'cases';

export const migrations: Migration[] = [
  {
    id: '001_init',
    sql: `
${EVENT_TABLES_SQL}

create table items (
  id text primary key,
  name text not null,
  agency_code text not null,
  agency_name text not null,
  type_code text,
  case_type text,
  legal_time_limit integer,
  promised_time_limit integer,
  licence_type_code text,
  licence_type_name text,
  updated_at timestamptz not null default now()
);

create table cases (
  id uuid primary key,
  case_number varchar(50) not null unique,
  item_id text not null,
  item_name text not null,
  agency_code text not null,
  agency_name text not null,
  licence_type_code text,
  licence_type_name text,
  applicant_id text not null,
  applicant_name text not null,
  form jsonb,
  idempotency_key text,
  status text not null check (status in ('SUBMITTED', 'ACCEPTED', 'REJECTED', 'APPROVED', 'COMPLETED')),
  outcome_code text check (outcome_code in ('0', '1', '2', '3', '4', '5', '6')),
  version integer not null default 1,
  submitted_at timestamptz not null,
  updated_at timestamptz not null
);
create unique index cases_idempotency on cases (applicant_id, idempotency_key) where idempotency_key is not null;
create index cases_applicant on cases (applicant_id, submitted_at desc);
create index cases_queue on cases (agency_code, status, submitted_at);

create table case_steps (
  id bigint generated always as identity primary key,
  case_id uuid not null references cases (id),
  action text not null check (action in ('submit', 'accept', 'reject', 'approve', 'complete')),
  status text not null,
  handler_id text,
  handler_name text,
  opinion text,
  at timestamptz not null
);
create index case_steps_case on case_steps (case_id, id);

create function case_steps_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'case_steps is append-only (R-CA-11): % refused', tg_op using errcode = 'P0001';
end
$$;
create trigger case_steps_no_update before update or delete on case_steps
  for each row execute function case_steps_append_only();
create trigger case_steps_no_truncate before truncate on case_steps
  for each statement execute function case_steps_append_only();

create table case_number_sequences (
  prefix text primary key,
  last_value integer not null
);

create table case_licences (
  case_id uuid not null references cases (id),
  licence_id text not null,
  identifier text,
  issued_at timestamptz,
  primary key (case_id, licence_id)
);
`,
  },
];
