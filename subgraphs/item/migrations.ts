/**
 * Schema `item`: agencies (实施机构) and the items they implement (事项实施清单, GB/T 39046),
 * plus the outbox that carries `item.upserted` to the `items` stream. Text columns are
 * unbounded on purpose: code widths differ between sources; validation lives in model.ts.
 */
import type { Migration } from '../../kernel/migrate.ts';
import { EVENT_ACK_SQL, EVENT_TABLES_SQL } from '../../kernel/events.ts';

export const ITEM_SCHEMA = 'item';

export const ITEM_MIGRATIONS: readonly Migration[] = [
  {
    id: '001_init',
    sql: `
${EVENT_TABLES_SQL}
create table agencies (
  code text primary key,
  name text not null,
  region_code text not null,
  level smallint not null check (level between 1 and 6),
  updated_at timestamptz not null
);
create table items (
  id uuid primary key,
  name text not null,
  basic_code text not null,
  implementation_code text not null unique,
  type_code text not null check (type_code in ('01','02','03','04','05','06','07','08','09','10','20')),
  level smallint not null check (level between 1 and 7),
  case_type text not null check (case_type in ('1','2','9')),
  legal_time_limit integer not null check (legal_time_limit >= 0),
  promised_time_limit integer not null check (promised_time_limit >= 0),
  online_depth smallint not null check (online_depth between 1 and 5),
  visits integer not null check (visits >= 0),
  agency_code text not null references agencies (code),
  materials jsonb not null default '[]',
  licence_type_code text,
  licence_type_name text,
  updated_at timestamptz not null,
  check ((licence_type_code is null) = (licence_type_name is null))
);
create index items_agency on items (agency_code);
create index items_name on items (name);
`,
  },
  {
    // R-IT-5 classification columns, and the search index of R-IT-7: one row per item in
    // search_docs with its character n-grams (search/text.ts) under a GIN index, the filter
    // columns beside them, and the popularity counted from case events.
    id: '002_search',
    sql: `
alter table items add column objects text[] not null default '{}';
alter table items add column themes text[] not null default '{}';
alter table items add column online_handling boolean not null default false;
create table search_docs (
  item_id uuid primary key references items (id) on delete cascade,
  name text not null,
  name_norm text not null,
  codes text not null,
  body text not null,
  grams text[] not null,
  agency_code text not null,
  type_code text not null,
  level smallint not null,
  online_depth smallint not null,
  online_handling boolean not null,
  objects text[] not null,
  themes text[] not null,
  popularity integer not null default 0
);
create index search_docs_grams on search_docs using gin (grams);
create index search_docs_popular on search_docs (popularity desc, name collate "C", item_id);
create index search_docs_name on search_docs (name_norm);
create index search_docs_agency on search_docs (agency_code);
create index search_docs_themes on search_docs using gin (themes);
create table case_stats (
  item_id uuid not null,
  day date not null,
  completed integer not null,
  primary key (item_id, day)
);
create index case_stats_day on case_stats (day);
create table applicant_items (
  applicant text not null,
  item_id uuid not null,
  first_at timestamptz not null,
  primary key (applicant, item_id)
);
create index applicant_items_item on applicant_items (item_id);
`,
  },
  {
    // R-IT-1/3: directory entries (事项目录) at national, provincial and municipal level, with
    // main items, sub-items and handling items; R-IT-2/4: the rest of the GB/T 39046 element set
    // of an implementation (elements) and of its materials (inside materials); R-IT-6: versions,
    // each a change request approved by a second person.
    id: '003_catalogue',
    sql: `
create table directory_entries (
  basic_code text not null,
  region_code text not null,
  level smallint not null check (level between 1 and 3),
  name text not null,
  type_code text not null check (type_code in ('01','02','03','04','05','06','07','08','09','10','20')),
  legal_basis text not null,
  kind text not null check (kind in ('main', 'sub', 'handling')),
  parent_code text,
  updated_at timestamptz not null,
  primary key (basic_code, region_code),
  check ((kind = 'main') = (parent_code is null))
);
create index directory_entries_parent on directory_entries (parent_code);
alter table items add column elements jsonb not null default '{}';
alter table items add column version integer not null default 0;
create table item_versions (
  item_id uuid not null,
  version integer not null,
  base_version integer not null,
  data jsonb not null,
  status text not null check (status in ('pending', 'approved', 'rejected', 'superseded')),
  source text not null check (source in ('request', 'import', 'seed')),
  requested_by text not null,
  requested_by_name text not null,
  request_key text,
  requested_at timestamptz not null,
  decided_by text,
  decided_by_name text,
  decided_at timestamptz,
  reason text,
  primary key (item_id, version)
);
create unique index item_versions_request_key on item_versions (requested_by, request_key) where request_key is not null;
create index item_versions_pending on item_versions (status) where status = 'pending';
`,
  },
  {
    // R-IT-7 subscriptions: a person follows items (kept by a digest of their subject id).
    id: '004_subscriptions',
    sql: `
create table subscriptions (
  subscriber text not null,
  item_id uuid not null references items (id) on delete cascade,
  created_at timestamptz not null,
  seen_at timestamptz not null,
  primary key (subscriber, item_id)
);
create index subscriptions_item on subscriptions (item_id);
`,
  },
  {
    // The relay records each event's stream entry id and when every consumer group acknowledged
    // it, to publish again what Redis lost before it was acknowledged (kernel/events.ts).
    id: '005_outbox_acks',
    sql: EVENT_ACK_SQL,
  },
  {
    // Search documents remember the gram cutting they were written with, so a new cutting
    // (6-grams of codes) is applied to the stored ones when the service starts.
    id: '006_grams_version',
    sql: 'alter table search_docs add column grams_version smallint not null default 1;',
  },
  {
    // R-IT-7: a person following an item reads a notification when a new version of it comes
    // into force (written in the transaction that makes the version current, one per follower).
    id: '007_notifications',
    sql: `
create table notifications (
  id uuid primary key,
  subscriber text not null,
  item_id uuid not null references items (id) on delete cascade,
  version integer not null,
  item_name text not null,
  created_at timestamptz not null,
  read_at timestamptz,
  unique (subscriber, item_id, version)
);
create index notifications_subscriber on notifications (subscriber, created_at desc);
create index notifications_unread on notifications (subscriber) where read_at is null;
`,
  },
  {
    // R-IT-1: directory entries created and changed through the graph, like items: a request by
    // staff of an agency at the entry's level and region, approved by a second person. The rows
    // are the audit trail of the directory: never deleted, and a decided row never changes.
    id: '008_directory_changes',
    sql: `
create table directory_changes (
  id uuid primary key,
  basic_code text not null,
  region_code text not null,
  level smallint not null,
  data jsonb not null,
  base_updated_at timestamptz,
  status text not null check (status in ('pending', 'approved', 'rejected', 'superseded')),
  requested_by text not null,
  requested_by_name text not null,
  requested_by_agency text not null,
  request_key text not null,
  requested_at timestamptz not null,
  decided_by text,
  decided_by_name text,
  decided_by_agency text,
  decided_at timestamptz,
  reason text
);
create unique index directory_changes_request_key on directory_changes (requested_by, request_key);
create index directory_changes_scope on directory_changes (level, region_code, status, requested_at);
create function directory_changes_guard() returns trigger language plpgsql as $$
begin
  if tg_op in ('DELETE', 'TRUNCATE') then raise exception 'directory changes are an audit trail and are never deleted'; end if;
  if old.status <> 'pending' then raise exception 'a decided directory change never changes'; end if;
  return new;
end $$;
create trigger directory_changes_guard before update or delete on directory_changes for each row execute function directory_changes_guard();
create trigger directory_changes_no_truncate before truncate on directory_changes for each statement execute function directory_changes_guard();
`,
  },
];
