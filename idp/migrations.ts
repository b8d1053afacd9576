/**
 * Schema `idp`: accounts (R-ID-1 natural persons, agency staff) and the provider's signing keys.
 * oidc-provider's short-lived artefacts (sessions, codes, tokens, grants) live in the cache
 * (idp/adapter.ts), not here.
 */
import type { Migration } from '../kernel/migrate.ts';
import { EVENT_TABLES_SQL } from '../kernel/events.ts';

export const IDP_SCHEMA = 'idp';

export const IDP_MIGRATIONS: readonly Migration[] = [
  {
    id: '001_init',
    sql: `
${EVENT_TABLES_SQL}

create table accounts (
  id uuid primary key,
  kind text not null check (kind in ('person', 'staff')),
  name text not null,
  -- GB 11643 resident ID number (persons); staff may have none.
  id_number text unique,
  mobile text unique,
  -- Staff log in with a username; never shaped like an ID number or a mobile number.
  username text unique,
  -- Declared registration factors (R-ID-1): [{ type, hash?, last4, verified, at }].
  factors jsonb not null default '[]'::jsonb,
  agreement_version text,
  agreement_accepted_at timestamptz,
  -- scrypt$N$r$p$salt$hash (idp/password.ts)
  password_hash text,
  agency_code text,
  roles text[] not null default '{}',
  disabled boolean not null default false,
  created_at timestamptz not null default now(),
  check (kind = 'staff' or id_number is not null),
  check (kind = 'person' or (username is not null and agency_code is not null))
);

-- Signing keys, generated once and kept; private JWKs encrypted with KEY_PASSPHRASE (idp/keys.ts).
create table signing_keys (
  kid text primary key,
  alg text not null,
  public_jwk jsonb not null,
  private_jwk_enc text not null,
  created_at timestamptz not null default now(),
  retired_at timestamptz
);
`,
  },
];
