/**
 * Schema `idp`: accounts (R-ID-1 natural persons, agency staff) and the provider's signing keys.
 * oidc-provider's short-lived artefacts (sessions, codes, tokens, grants) live in the cache
 * (idp/oidc/adapter.ts), not here.
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
  -- PHC string: $argon2id$… (idp/accounts/password.ts); older rows scrypt$N$r$p$salt$hash until the next login
  password_hash text,
  agency_code text,
  roles text[] not null default '{}',
  disabled boolean not null default false,
  created_at timestamptz not null default now(),
  check (kind = 'staff' or id_number is not null),
  check (kind = 'person' or (username is not null and agency_code is not null))
);

-- Signing keys, generated once and kept; private JWKs encrypted with KEY_PASSPHRASE (idp/oidc/keys.ts).
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
  {
    // Partner sites (idp/partners): registered partner clients, remembered consent,
    // per-client access policies (R-ID-10).
    id: '201_partners',
    sql: `
create table partner_clients (
  client_id text primary key,
  -- oidc-provider client metadata (client_secret included: oidc-provider compares it as given).
  metadata jsonb not null,
  disabled boolean not null default false,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Consent a person gave a client, remembered across sessions (per client and scope).
create table consents (
  account_id uuid not null,
  client_id text not null,
  scopes text[] not null,
  resource_scopes jsonb not null default '{}'::jsonb,
  granted_at timestamptz not null default now(),
  primary key (account_id, client_id)
);

-- R-ID-10: which account kinds, assurance levels or roles may use a client; read per request.
create table client_policies (
  client_id text primary key,
  kinds text[],
  min_acr text,
  roles text[],
  updated_by uuid,
  updated_at timestamptz not null default now()
);
`,
  },
  {
    // Administration (idp/admin, idp/audit): R-ID-9 re-enable approvals and the
    // append-only, hash-chained audit log.
    id: '202_admin_audit',
    sql: `
create table audit_log (
  seq bigint primary key,
  at timestamptz not null,
  actor_id text not null,
  action text not null,
  target text,
  details jsonb not null default '{}'::jsonb,
  prev_hash text not null,
  hash text not null unique
);

-- Append-only: the database itself refuses to change or remove an entry.
create function audit_log_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'idp.audit_log is append-only';
end;
$$;
create trigger audit_log_no_update before update or delete on audit_log
  for each row execute function audit_log_append_only();

create table enable_requests (
  id uuid primary key,
  account_id uuid not null references accounts(id),
  requested_by uuid not null,
  reason text not null,
  status text not null check (status in ('pending', 'approved', 'rejected')),
  decided_by uuid,
  decided_at timestamptz,
  created_at timestamptz not null
);
create unique index enable_requests_one_pending on enable_requests (account_id) where status = 'pending';
`,
  },
  {
    // Accounts (idp/verify, idp/accounts, idp/company): R-ID-1/2/4 proofing, assurance
    // levels and where an account was registered (ready for R-ID-12), companies.
    id: '101_identity',
    sql: `
alter table accounts add column assurance_level smallint not null default 2 check (assurance_level between 2 and 5);
-- How the account was proven: self-declared | online-verified | counter | staff.
alter table accounts add column proofing text not null default 'self-declared';
alter table accounts add column registered_platform text;
alter table accounts add column registered_tier text check (registered_tier in ('national', 'provincial', 'municipal'));
-- R-ID-2: counter registrations wait for staff activation; their random password must be changed.
alter table accounts add column status text not null default 'active' check (status in ('pending', 'active'));
alter table accounts add column must_change_password boolean not null default false;
alter table accounts add column registered_by uuid;
alter table accounts add column activated_by uuid;
alter table accounts add column activated_at timestamptz;

-- R-ID-4: legal persons, bound to the legal representative's natural-person account.
create table companies (
  id uuid primary key,
  credit_code text not null unique,
  name text not null,
  legal_rep_account_id uuid not null references accounts(id),
  -- registry: remote comparison with the business registry; counter: checked at a counter.
  route text not null check (route in ('registry', 'counter')),
  -- Counter registration by a delegate carrying the legal representative's power of attorney.
  delegate_account_id uuid references accounts(id),
  power_of_attorney text,
  registered_by uuid,
  assurance_level smallint not null check (assurance_level between 2 and 5),
  agreement_version text not null,
  agreement_accepted_at timestamptz not null,
  registered_platform text,
  registered_tier text,
  disabled boolean not null default false,
  created_at timestamptz not null,
  check (delegate_account_id is null or power_of_attorney is not null)
);
create index companies_legal_rep on companies (legal_rep_account_id);
`,
  },
  {
    // Delegation (idp/delegation, R-ID-8): a company's rights passed to a person for a
    // scope of service items and a period; passed on at most 3 levels.
    id: '203_delegations',
    sql: `
create table delegations (
  id uuid primary key,
  company_credit_code text not null references companies(credit_code),
  grantor_account_id uuid not null references accounts(id),
  grantee_account_id uuid not null references accounts(id),
  parent_id uuid references delegations(id),
  level smallint not null check (level between 1 and 3),
  -- Service item ids, or '*' for every item.
  scope text[] not null check (cardinality(scope) > 0),
  valid_from timestamptz not null,
  valid_until timestamptz not null,
  status text not null check (status in ('requested', 'active', 'rejected', 'revoked')),
  created_at timestamptz not null,
  updated_at timestamptz not null,
  revoked_at timestamptz,
  revoked_by uuid,
  check (valid_until > valid_from),
  check (grantor_account_id <> grantee_account_id),
  check ((level = 1) = (parent_id is null))
);
create index delegations_grantee on delegations (grantee_account_id);
create index delegations_grantor on delegations (grantor_account_id);
create index delegations_parent on delegations (parent_id);
create index delegations_company on delegations (company_credit_code);
`,
  },
  {
    // R-ID-9: the audit chain is keyed (HMAC, key outside the database) from this migration
    // on; entries written before keep their plain SHA-256 links (alg) as a prefix only.
    // TRUNCATE bypasses row triggers, so a statement trigger refuses it too.
    id: '204_audit_keyed',
    sql: `
alter table audit_log add column alg text not null default 'sha256';
alter table audit_log alter column alg set default 'hmac-sha256';
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_append_only();
`,
  },
  {
    // R-ID-3 linked registration (idp/link): accounts known to trusted real-name platforms, by
    // the platform's issuer and subject; where the platform sits (tier, region: ready for R-ID-12).
    id: '102_account_links',
    sql: `
create table account_links (
  account_id uuid not null references accounts(id),
  -- The platform's configured id (IDP_UPSTREAMS) and its OpenID Provider issuer.
  upstream text not null,
  issuer text not null,
  subject text not null,
  tier text not null check (tier in ('national', 'provincial', 'municipal')),
  region text not null,
  -- The level the platform vouched for the identity at (idp/link/identity.ts).
  level smallint not null check (level between 3 and 5),
  -- registration: the account was created through the platform; link: linked after a normal login.
  via text not null check (via in ('registration', 'link')),
  linked_at timestamptz not null,
  primary key (issuer, subject),
  unique (account_id, issuer)
);
create index account_links_account on account_links (account_id);
`,
  },
  {
    // R-ID-4's other routes (idp/company): an electronic business licence, or an enterprise
    // certificate; what proved the company is kept with it, and the certificates linked to it.
    id: '103_company_routes',
    sql: `
alter table companies drop constraint companies_route_check;
alter table companies add constraint companies_route_check check (route in ('registry', 'counter', 'licence', 'certificate'));
-- licence: identifier, issuing agency, when sealed, whether its status was checked; certificate: fingerprint, serial, issuer.
alter table companies add column evidence jsonb not null default '{}'::jsonb;

create table company_certificates (
  -- SHA-256 of the certificate's DER, "AB:CD:…".
  fingerprint text primary key,
  credit_code text not null references companies(credit_code),
  serial text not null,
  issuer text not null,
  subject text not null,
  not_after timestamptz not null,
  linked_by uuid not null references accounts(id),
  linked_at timestamptz not null
);
create index company_certificates_company on company_certificates (credit_code);
`,
  },
  {
    // Back-channel logout deliveries that failed, retried with backoff until delivered or given up
    // (OIDC Back-Channel Logout 1.0 §2.8 leaves retries to the OP); the counts an operator reads.
    id: '205_backchannel_deliveries',
    sql: `
create table backchannel_deliveries (
  id bigint generated always as identity primary key,
  client_id text not null,
  account_id text not null,
  sid text,
  state text not null check (state in ('pending', 'delivered', 'failed')),
  attempts int not null,
  next_at timestamptz,
  last_error text,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index backchannel_deliveries_due on backchannel_deliveries (next_at) where state = 'pending';
create index backchannel_deliveries_client on backchannel_deliveries (client_id, state);
`,
  },
  {
    // R-ID-12 cross-tier login: an account recognised from its home platform of the federation
    // (idp/link/homes.ts); the home's Entity Identifier and trust anchor are kept with the link.
    id: '104_recognition_links',
    sql: `
alter table account_links drop constraint account_links_via_check;
alter table account_links add constraint account_links_via_check check (via in ('registration', 'link', 'recognition'));
alter table account_links add column entity_id text;
alter table account_links add column trust_anchor text;
`,
  },
];
