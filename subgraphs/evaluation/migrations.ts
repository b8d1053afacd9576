/**
 * Schema `evaluation`: cases that may be rated (recorded from `case.completed` events) and their
 * ratings (R-EV-4); complaints, consultations and suggestions (R-EV-1 … R-EV-3); the follow-up
 * of bad ratings (R-EV-4); accountability records for answers and follow-ups that ran late;
 * ranking snapshots of the agencies (R-EV-5); a replica of the items (from `item.upserted`) to
 * route a consultation to the agency of the item being viewed. Ids from other services (case, item, applicant) are kept as text: this
 * service does not depend on how they are formed. One rating per case is the unique constraint
 * on evaluations.case_id, so concurrent attempts cannot both succeed.
 */
import { EVENT_TABLES_SQL } from '../../kernel/events.ts';
import { appendOnlySql, type Migration } from '../../kernel/migrate.ts';

export const EVALUATION_SCHEMA = 'evaluation';

export const EVALUATION_MIGRATIONS: readonly Migration[] = [
  {
    id: '001_init',
    sql: `
${EVENT_TABLES_SQL}
create table rateable_cases (
  case_id text primary key,
  case_number text,
  applicant_id text not null,
  item_id text not null,
  agency_code text not null,
  outcome_code text not null,
  completed_at timestamptz not null,
  recorded_at timestamptz not null
);
create table evaluations (
  id uuid primary key,
  case_id text not null references rateable_cases (case_id),
  applicant_id text not null,
  item_id text not null,
  agency_code text not null,
  level text not null check (level in ('VERY_SATISFIED','SATISFIED','BASICALLY_SATISFIED','DISSATISFIED','VERY_DISSATISFIED')),
  reason text check (reason is null or char_length(reason) <= 500),
  channel smallint not null check (channel between 1 and 7),
  created_at timestamptz not null,
  constraint evaluations_one_per_case unique (case_id)
);
create index evaluations_item on evaluations (item_id);
create index evaluations_agency on evaluations (agency_code);
`,
  },
  {
    id: '002_feedback_follow_up_rankings',
    sql: `
-- R-EV-5: what the rankings count, carried by case.completed (null for cases recorded before).
alter table rateable_cases add column mode text;
alter table rateable_cases add column visits int;
alter table rateable_cases add column overdue boolean;
alter table rateable_cases add column submitted_at timestamptz;
create index rateable_cases_agency on rateable_cases (agency_code, completed_at);

create table item_replica (
  item_id text primary key,
  name text not null,
  agency_code text not null,
  agency_name text not null,
  updated_at timestamptz not null
);

-- R-EV-1 … R-EV-3: one table, one answer per feedback; the clock (due_at) counts working days.
create table feedback (
  id uuid primary key,
  kind text not null check (kind in ('COMPLAINT', 'CONSULTATION', 'SUGGESTION')),
  author_id text not null,
  author_name text not null,
  author_acr text,
  idempotency_key text,
  agency_code text not null,
  item_id text,
  topic text,
  content text not null check (char_length(content) between 1 and 2000),
  page_url text check (page_url is null or char_length(page_url) <= 500),
  public boolean not null,
  status text not null check (status in ('OPEN', 'ANSWERED')),
  submitted_at timestamptz not null,
  due_at timestamptz not null,
  answer text check (answer is null or char_length(answer) <= 2000),
  answered_by_id text,
  answered_by_name text,
  answered_at timestamptz,
  version int not null default 1,
  unique (author_id, idempotency_key),
  check ((status = 'ANSWERED') = (answered_at is not null and answer is not null))
);
create index feedback_queue on feedback (agency_code, kind, status, submitted_at);
create index feedback_author on feedback (author_id, submitted_at desc);
create index feedback_public on feedback (kind, agency_code, answered_at desc) where public and status = 'ANSWERED';

-- Every hand a complaint passed through (received, dispatched, answered): append-only.
create table feedback_steps (
  id bigint generated always as identity primary key,
  feedback_id uuid not null references feedback (id),
  action text not null,
  agency_code text not null,
  actor_id text,
  actor_name text,
  note text,
  at timestamptz not null
);
create index feedback_steps_of on feedback_steps (feedback_id, id);
${appendOnlySql(EVALUATION_SCHEMA, 'feedback_steps')}

-- R-EV-4: the follow-up of a bad rating: verified by the agency, then rectified and answered.
create table follow_ups (
  evaluation_id uuid primary key references evaluations (id),
  agency_code text not null,
  state text not null check (state in ('VERIFYING', 'RECTIFYING', 'RECTIFIED', 'NOT_UPHELD')),
  created_at timestamptz not null,
  due_at timestamptz not null,
  verified_by_name text,
  verified_at timestamptz,
  verification_note text,
  measures text,
  answer text,
  answered_by_name text,
  answered_at timestamptz,
  version int not null default 1
);
create index follow_ups_queue on follow_ups (agency_code, state, due_at);

-- Accountability records (电子监察): an answer or a follow-up that missed its deadline, once each.
create table accountability (
  id bigint generated always as identity primary key,
  kind text not null check (kind in ('COMPLAINT', 'CONSULTATION', 'SUGGESTION', 'RATING_FOLLOW_UP')),
  subject_id uuid not null,
  agency_code text not null,
  due_at timestamptz not null,
  at timestamptz not null,
  unique (kind, subject_id)
);
create index accountability_agency on accountability (agency_code, at desc);

-- R-EV-5: one snapshot per period end and agency; replicas computing the same period agree.
create table rankings (
  period_end timestamptz not null,
  agency_code text not null,
  period_start timestamptz not null,
  rank int not null,
  score double precision not null,
  indicators jsonb not null,
  computed_at timestamptz not null,
  primary key (period_end, agency_code)
);
`,
  },
  {
    // R-EV-2 live chat: a chat opened on an item's guide is routed to the item's agency; one
    // member of its staff takes it; messages are numbered per chat (seq) and kept (the
    // transcript, append-only); a closed chat becomes a consultation (feedback_id) whose answer
    // time is the first staff answer.
    id: '003_chat',
    sql: `
create table chats (
  id uuid primary key,
  item_id text not null,
  agency_code text not null,
  author_id text not null,
  author_name text not null,
  author_acr text,
  status text not null check (status in ('WAITING', 'ACTIVE', 'CLOSED')),
  opened_at timestamptz not null,
  staff_id text,
  staff_name text,
  first_answer_at timestamptz,
  closed_at timestamptz,
  closed_by text check (closed_by in ('CITIZEN', 'STAFF')),
  feedback_id uuid references feedback (id),
  last_seq int not null default 0,
  check (status <> 'WAITING' or staff_id is null),
  check (status <> 'ACTIVE' or staff_id is not null),
  check ((status = 'CLOSED') = (closed_at is not null))
);
create index chats_queue on chats (agency_code, status, opened_at);
create index chats_author on chats (author_id, opened_at desc);
create unique index chats_feedback on chats (feedback_id) where feedback_id is not null;
create table chat_messages (
  chat_id uuid not null references chats (id),
  seq int not null,
  sender text not null check (sender in ('CITIZEN', 'STAFF')),
  sender_name text not null,
  text text not null check (char_length(text) between 1 and 1000),
  at timestamptz not null,
  primary key (chat_id, seq)
);
${appendOnlySql(EVALUATION_SCHEMA, 'chat_messages')}
`,
  },
];
