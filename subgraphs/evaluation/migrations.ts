/**
 * Schema `evaluation`: cases that may be rated (recorded from `case.completed` events) and their
 * ratings (R-EV-4). Ids from other services (case, item, applicant) are kept as text: this
 * service does not depend on how they are formed. One rating per case is the unique constraint
 * on evaluations.case_id, so concurrent attempts cannot both succeed.
 */
import type { Migration } from '../../kernel/migrate.ts';
import { EVENT_TABLES_SQL } from '../../kernel/events.ts';

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
];
