/**
 * The `federation` schema: this platform's federation keys (private parts encrypted under
 * KEY_PASSPHRASE), the subordinates an administrator registered, and an append-only audit trail
 * of every administrative act on them.
 */
import { appendOnlySql, type Migration } from '../kernel/migrate.ts';

export const FEDERATION_SCHEMA = 'federation';

export const FEDERATION_MIGRATIONS: readonly Migration[] = [
  {
    id: '001_init',
    sql: `
create table keys (
  kid text primary key,
  alg text not null,
  public_jwk jsonb not null,
  private_jwk_enc text not null,
  -- next: published, not yet signing; active: signs; retired: published until publish_until.
  state text not null check (state in ('next', 'active', 'retired')),
  created_at timestamptz not null,
  activated_at timestamptz,
  retired_at timestamptz,
  publish_until timestamptz
);
create unique index keys_one_active on keys (state) where state = 'active';
create unique index keys_one_next on keys (state) where state = 'next';

create table subordinates (
  entity_id text primary key,
  jwks jsonb not null,
  entity_types jsonb not null default '[]',
  metadata jsonb,
  metadata_policy jsonb,
  metadata_policy_crit jsonb,
  constraints jsonb,
  added_at timestamptz not null,
  added_by text not null,
  updated_at timestamptz not null,
  removed_at timestamptz,
  removed_by text
);

create table audit (
  id bigserial primary key,
  at timestamptz not null,
  actor text not null,
  action text not null,
  entity_id text,
  details jsonb not null default '{}'
);
${appendOnlySql('federation', 'audit')}
`,
  },
  {
    // The IdP's relying-party keys (keys.ts, purpose relying_party): the same life cycle as keys.
    id: '002_rp_keys',
    sql: `
create table rp_keys (like keys including all);
`,
  },
];
