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
    // The relay records each event's stream entry id and when every consumer group acknowledged
    // it, to publish again what Redis lost before it was acknowledged (kernel/events.ts).
    id: '002_outbox_acks',
    sql: EVENT_ACK_SQL,
  },
];
