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
import { EVENT_ACK_SQL, EVENT_TABLES_SQL } from '../../kernel/events.ts';

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
  {
    // Workflows as data, application modes and visits, supplements, the legal clock,
    // supervision alerts (accountability records), parallel approvals, delivery.
    id: '101_workflows',
    sql: `
alter table cases drop constraint cases_status_check;
alter table cases add constraint cases_status_known check (status in
  ('SUBMITTED', 'SUPPLEMENT_REQUESTED', 'ACCEPTED', 'SUSPENDED', 'APPROVED', 'REJECTED', 'COMPLETED'));
alter table case_steps drop constraint case_steps_action_check;
alter table case_steps add constraint case_steps_action_name check (action ~ '^[a-z][A-Za-z]{1,39}$');
alter table case_steps add column details jsonb;

alter table cases
  add column workflow_id text not null default 'promised',
  add column co_agencies text[] not null default '{}',
  add column mode text not null default 'ONLINE' check (mode in ('ONLINE', 'PICKUP_VERIFY', 'PRE_REVIEW')),
  add column visits integer not null default 0,
  add column supplement_materials jsonb,
  add column clock_state text,
  add column deadline_at timestamptz,
  add column paused_at timestamptz,
  add column warned_at timestamptz,
  add column extension_requested integer,
  add column extension_days integer not null default 0,
  add column delivery jsonb,
  add column finished_at timestamptz,
  add column legal_time_limit integer,
  add column promised_time_limit integer;
create index cases_deadline on cases (deadline_at) where deadline_at is not null and paused_at is null and finished_at is null;

-- Custom workflow definitions (validated before insert; immutable: a change is a new id).
create table workflows (
  id text primary key,
  definition jsonb not null,
  created_at timestamptz not null
);
-- Which workflow an item's implementation uses, and for parallel approval the co-agencies.
create table item_workflows (
  item_id text primary key,
  workflow_id text not null,
  co_agencies text[] not null default '{}',
  updated_at timestamptz not null
);

-- R-CA-8: warnings and accountability records (kind 'overdue'), one per case, state and deadline.
create table case_alerts (
  id bigint generated always as identity primary key,
  case_id uuid not null references cases (id),
  agency_code text not null,
  kind text not null check (kind in ('warning', 'overdue')),
  state text not null,
  deadline_at timestamptz not null,
  at timestamptz not null,
  unique (case_id, kind, state, deadline_at)
);
create index case_alerts_agency on case_alerts (agency_code, kind, at desc);

-- R-CA-9: one row per agency whose approval a parallel case needs.
create table case_approvals (
  case_id uuid not null references cases (id),
  agency_code text not null,
  lead boolean not null,
  approved_by text,
  approved_at timestamptz,
  opinion text,
  primary key (case_id, agency_code)
);
`,
  },
  {
    // Materials (uploads by checksum, or a licence instead of an upload, R-LI-2).
    // Append-only like the step log: a later row for the same name supersedes an earlier one.
    id: '102_materials',
    sql: `
create table case_materials (
  id bigint generated always as identity primary key,
  case_id uuid not null references cases (id),
  name text not null,
  source text not null check (source in ('UPLOAD', 'LICENCE')),
  sha256 text check (sha256 ~ '^[0-9a-f]{64}$'),
  size integer,
  media_type text,
  licence_id text,
  licence_identifier text,
  added_by text not null,
  at timestamptz not null,
  check ((source = 'UPLOAD' and sha256 is not null and size is not null) or (source = 'LICENCE' and licence_id is not null))
);
create index case_materials_case on case_materials (case_id, name, id);
create trigger case_materials_no_update before update or delete on case_materials
  for each row execute function case_steps_append_only();
`,
  },
  {
    // R-LI-2: the item replica keeps the item's materials (code, name, required,
    // replaceableByLicenceType) from `item.upserted`; null = not announced (older item service).
    // material_code records which of the item's materials a licence replaced.
    id: '103_item_materials',
    sql: `
alter table items add column materials jsonb;
alter table case_materials add column material_code text;
`,
  },
  {
    // An upload address works once; the spent ones are kept
    // (small rows, one per upload) so a replay within its 10 minutes is refused.
    id: '110_upload_tokens',
    sql: `
create table case_upload_tokens (
  jti text primary key,
  case_id uuid not null references cases (id),
  at timestamptz not null
);
`,
  },
  {
    // The relay records each event's stream entry id and when every consumer group acknowledged
    // it, to publish again what Redis lost before it was acknowledged (kernel/events.ts).
    id: '111_outbox_acks',
    sql: EVENT_ACK_SQL,
  },
];
