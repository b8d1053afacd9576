/**
 * Schema `licence`. Forward-only; see kernel/migrate.ts.
 *
 * - certificates: the seal trust hierarchy (R-LI-3): national root → provincial CA → one seal
 *   certificate per agency. Private keys are stored only as encrypted PKCS#8 PEM (KEY_PASSPHRASE).
 *   `serial_hex` and `issuer_dn` are in the form seal's revocation check asks about.
 * - licences: issued electronic licences (R-LI-1/2). (case_id, type_code) is unique: a replayed
 *   `case.approved` cannot issue a second licence of the same type for the same case.
 * - licence_serials: per agency and licence type, the GB/T 36904 serial counter.
 * 002 (status, timestamps, outside CAs):
 * - certificates may also be the platform timestamp authority ('tsa', under the root).
 * - status_lists: per agency and purpose (revocation, suspension) the Bitstring Status List
 *   bits (131,072 entries) and the last sealed status-list credential with its validUntil, so
 *   it is re-sealed only when the bits change or it nears expiry.
 * - licence_status: each licence's index in its agency's lists (random, unique per agency:
 *   herd privacy) and its current state with the reason.
 * - status_audit: append-only log of revoke / suspend / reinstate: who, when, why.
 * 005–007: seals from an outside CA, the seal audit, imported CRLs (see each migration).
 */
import { appendOnlySql, type Migration } from '../../kernel/migrate.ts';
import { EVENT_ACK_SQL, EVENT_TABLES_SQL } from '../../kernel/events.ts';

export const LICENCE_SCHEMA = 'licence';

export const migrations: Migration[] = [
  {
    id: '001_init',
    sql: `
${EVENT_TABLES_SQL}

create table certificates (
  id uuid primary key,
  role text not null check (role in ('root', 'ca', 'seal')),
  agency_code text,
  issuer_id uuid references certificates (id),
  serial_hex text not null,
  subject text not null,
  issuer_dn text not null,
  cert_pem text not null,
  key_pem text not null,
  not_before timestamptz not null,
  not_after timestamptz not null,
  status text not null default 'active' check (status in ('active', 'revoked')),
  created_at timestamptz not null default now(),
  check ((role = 'seal') = (agency_code is not null)),
  unique (issuer_dn, serial_hex)
);
create index certificates_role on certificates (role, status, not_after);
create index certificates_agency on certificates (agency_code, status, not_after) where role = 'seal';

create table licences (
  id uuid primary key,
  identifier text not null unique,
  type_code text not null,
  type_name text not null,
  number text not null,
  holder_id text not null,
  holder_name text not null,
  holder_code text not null,
  issuer_name text not null,
  issuer_code text not null,
  jurisdiction text not null,
  case_id text not null,
  seal_certificate_id uuid not null references certificates (id),
  issued_at timestamptz not null,
  valid_from timestamptz not null,
  valid_until timestamptz,
  credential text not null,
  unique (case_id, type_code),
  unique (issuer_code, type_code, number)
);
create index licences_holder on licences (holder_id, issued_at desc);
create index licences_case on licences (case_id);

create table licence_serials (
  agency_code text not null,
  type_code text not null,
  last_value integer not null,
  primary key (agency_code, type_code)
);
`,
  },
  {
    id: '002_status_timestamps',
    sql: `
alter table certificates drop constraint certificates_role_check;
alter table certificates add constraint certificates_role_check check (role in ('root', 'ca', 'seal', 'tsa'));

create table status_lists (
  agency_code text not null,
  purpose text not null check (purpose in ('revocation', 'suspension')),
  agency_name text not null,
  bits bytea not null,
  version integer not null default 1,
  signed text,
  signed_version integer,
  signed_valid_until timestamptz,
  primary key (agency_code, purpose)
);

create table licence_status (
  licence_id uuid primary key references licences (id),
  agency_code text not null,
  status_index integer not null check (status_index >= 0),
  state text not null default 'active' check (state in ('active', 'revoked', 'suspended')),
  reason text,
  changed_at timestamptz,
  unique (agency_code, status_index)
);

create table status_audit (
  id uuid primary key,
  licence_id uuid not null references licences (id),
  action text not null check (action in ('revoke', 'suspend', 'reinstate')),
  reason text not null,
  actor_id text not null,
  actor_name text not null,
  agency_code text not null,
  at timestamptz not null
);
create index status_audit_licence on status_audit (licence_id, at);
`,
  },
  {
    // When a certificate was revoked: the revocationDate of its CRL entry (GET /crl/<CA id>.crl).
    id: '003_certificate_revoked_at',
    sql: `
alter table certificates add column revoked_at timestamptz;
`,
  },
  {
    // The seal image (PNG) of an agency's seal certificate, whose SHA-256 the certificate carries.
    id: '004_certificate_seal_image',
    sql: `
alter table certificates add column seal_image bytea;
`,
  },
  {
    // Seals from an outside CA (LICENCE_SEAL_MODE=external, ./seal-admin.ts), the service's own
    // revocations with their reason, and the seal audit trail (./seal-audit.ts).
    // - certificates.source: 'platform' (made by this service) or 'external' (certified by an
    //   outside CA and installed); an external row has no issuer_id: chain_pem holds its issuers
    //   as installed (what x5c carries after it). revocation_reason: RFC 5280 §5.3.1 name.
    // - seal_requests: a pending key (key_pem, as certificates.key_pem: encrypted, or a KeyStore
    //   reference) and its PKCS #10 request, until the certificate for it is installed.
    // - seal_audit: append-only (the database refuses UPDATE, DELETE, TRUNCATE): who requested,
    //   installed, issued or revoked which certificate, when, and why.
    id: '005_external_seals',
    sql: `
alter table certificates add column source text not null default 'platform' check (source in ('platform', 'external'));
alter table certificates add column chain_pem text;
alter table certificates add column revocation_reason text;
alter table certificates add constraint certificates_external_chain check ((source = 'external') = (chain_pem is not null));

create table seal_requests (
  id uuid primary key,
  role text not null check (role in ('seal', 'tsa')),
  agency_code text,
  agency_name text,
  seal_name text,
  subject_name text not null,
  csr_pem text not null,
  key_pem text not null,
  state text not null default 'pending' check (state in ('pending', 'installed')),
  requested_at timestamptz not null,
  requested_by text not null,
  certificate_id uuid references certificates (id),
  check ((role = 'seal') = (agency_code is not null and agency_name is not null)),
  check ((state = 'installed') = (certificate_id is not null))
);
create index seal_requests_agency on seal_requests (agency_code, requested_at);

create table seal_audit (
  id uuid primary key,
  seq bigint generated always as identity,
  at timestamptz not null,
  action text not null check (action in ('request', 'install', 'issue', 'revoke')),
  role text not null check (role in ('seal', 'tsa')),
  agency_code text,
  certificate_id uuid,
  request_id uuid,
  actor_id text not null,
  actor_name text not null,
  actor_agency text,
  details jsonb not null default '{}'
);
create index seal_audit_agency on seal_audit (agency_code, seq);

${appendOnlySql(LICENCE_SCHEMA, 'seal_audit')}`,
  },
  {
    // Issuance reserves a licence's status index before it signs (unique per agency, so two
    // issuances never share one), and inserts the licence afterwards in the same transaction:
    // the reference to the licence is checked at commit.
    id: '006_status_reserved_before_licence',
    sql: `
alter table licence_status drop constraint licence_status_licence_id_fkey;
alter table licence_status add constraint licence_status_licence_id_fkey
  foreign key (licence_id) references licences (id) deferrable initially deferred;
`,
  },
  {
    // CRLs of the outside CA imported into the service (./crl-import.ts) and the invalidity date
    // of a key-compromise revocation (RFC 5280 §5.3.2).
    // - crls: every CRL imported, as the CA signed it (der), with who imported it and when;
    //   append-only (the database refuses UPDATE, DELETE, TRUNCATE), so it is the import audit.
    //   issuer_key is the SHA-256 (hex) of the signing CA's SubjectPublicKeyInfo; the current CRL
    //   of a CA is its highest crl_number (cRLNumber, up to 20 octets: numeric).
    // - certificates.invalidity_date: since when the key is known or suspected to be compromised;
    //   revoked_by_crl: the imported CRL that revoked it (null when the service revoked it itself).
    id: '007_imported_crls',
    sql: `
create table crls (
  id uuid primary key,
  issuer_key text not null,
  issuer_dn text not null,
  ca_cert_pem text not null,
  crl_number numeric not null check (crl_number >= 0),
  this_update timestamptz not null,
  next_update timestamptz not null,
  der bytea not null,
  entries integer not null,
  imported_at timestamptz not null,
  imported_by_id text not null,
  imported_by_name text not null,
  imported_by_agency text,
  unique (issuer_key, crl_number)
);

${appendOnlySql(LICENCE_SCHEMA, 'crls')}
alter table certificates add column invalidity_date timestamptz;
alter table certificates add column revoked_by_crl uuid references crls (id);
`,
  },
  {
    // The last cRLNumber each CA of the service signed (RFC 5280 §5.2.3: increasing per CA).
    id: '008_crl_number',
    sql: `
alter table certificates add column crl_number bigint not null default 0;
`,
  },
  {
    // The relay records each event's stream entry id and when every consumer group acknowledged
    // it, to publish again what Redis lost before it was acknowledged (kernel/events.ts).
    id: '009_outbox_acks',
    sql: EVENT_ACK_SQL,
  },
  {
    // A platform's seal CA certified by the national root (LICENCE_SEAL_MODE=subordinate, R-LI-3):
    // its key and PKCS #10 request wait in seal_requests (role 'ca') until the certified chain is
    // installed; the request, the installation and each CA the national root certifies for another
    // platform are in the seal audit.
    id: '010_subordinate_ca',
    sql: `
alter table seal_requests drop constraint seal_requests_role_check;
alter table seal_requests add constraint seal_requests_role_check check (role in ('seal', 'tsa', 'ca'));
alter table seal_audit drop constraint seal_audit_role_check;
alter table seal_audit add constraint seal_audit_role_check check (role in ('seal', 'tsa', 'ca'));
`,
  },
];
