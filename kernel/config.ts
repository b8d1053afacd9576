/**
 * Configuration: every environment variable the platform reads, declared once with its default
 * and meaning, validated at start-up into one typed object. A bad value stops the process with a
 * message naming the variable. docs/configuration.md is generated from VARIABLES (npm run docs).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { AppError } from './errors.ts';
import { isValidCreditCode } from './ids.ts';
import { parseNetworks } from './outbound.ts';

interface VariableSpec {
  readonly description: string;
  readonly default?: string;
  readonly schema: z.ZodType;
}

const port = z.coerce.number().int().min(1).max(65535);
const url = z.url();
const optionalUrl = z.url().optional();
const secret = z.string().min(32, 'must be at least 32 characters').optional();

export const VARIABLES = {
  NODE_ENV: { description: '`production` requires every secret to be set explicitly (no generated development secrets).', default: 'development', schema: z.enum(['development', 'production', 'test']) },
  LOG_LEVEL: { description: 'pino log level: fatal, error, warn, info, debug, trace, silent.', default: 'info', schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) },
  BIND_HOST: { description: 'Address every HTTP server listens on.', default: '127.0.0.1', schema: z.string().min(1) },
  TRUST_PROXY: { description: 'Trust `X-Forwarded-For`/`-Proto` from a reverse proxy (client address for rate limits and lockouts, https for secure cookies). Set only when every request comes through a proxy that overwrites those headers.', default: 'false', schema: z.stringbool() },
  DATA_DIR: { description: 'Embedded PostgreSQL (PGlite) data and generated development secrets.', default: './data', schema: z.string().min(1) },
  DATABASE_URL: { description: 'PostgreSQL URL. Unset: embedded PGlite under DATA_DIR.', schema: optionalUrl },
  DATABASE_POOL_SIZE: { description: 'Connections per process in the pg pool.', default: '10', schema: z.coerce.number().int().min(1).max(200) },
  REDIS_URL: { description: 'Redis URL. Unset: in-process substitute (single process only).', schema: optionalUrl },
  REDIS_PREFIX: { description: 'Prefix for every Redis key and stream (lets tiers or tests share a server).', default: 'yw:', schema: z.string() },
  EVENT_CONCURRENCY: { description: 'Events each stream consumer handles at once (events of one case stay in order). More overlaps the commits and the calls to other services; each one in flight holds a database connection.', default: '8', schema: z.coerce.number().int().min(1).max(64) },
  EVENT_MAX_ATTEMPTS: { description: 'Failed attempts after which an event is set aside on the dead-letter stream `<stream>.dead` and acknowledged (`npx yiwang events …` lists and replays them).', default: '20', schema: z.coerce.number().int().min(1).max(1000) },
  IDP_ISSUER: { description: 'OpenID Connect issuer URL of the IdP (as clients and the gateway see it).', default: 'http://127.0.0.1:4100', schema: url },
  IDP_PORT: { description: 'IdP listening port.', default: '4100', schema: port },
  IDP_COOKIE_KEYS: { description: 'Comma-separated keys signing IdP cookies (first signs, all verify). Generated in development.', schema: z.string().optional() },
  IDP_PORTAL_REDIRECT_URIS: { description: 'Comma-separated redirect URIs of the first-party portal client `yiwang-portal` (public client, code + PKCE).', default: 'http://127.0.0.1:3000/callback,http://localhost:3000/callback,http://127.0.0.1:4300/callback', schema: z.string().min(1) },
  IDP_INTERNAL_URL: { description: 'Where services reach the IdP\'s internal account API.', default: 'http://127.0.0.1:4100', schema: url },
  GATEWAY_PORT: { description: 'Gateway listening port (`/graphql`).', default: '4000', schema: port },
  GATEWAY_RESOURCE: { description: 'Resource indicator (RFC 8707) of the graph: the `aud` of access tokens the gateway accepts.', default: 'http://127.0.0.1:4000/graphql', schema: url },
  IDP_JWKS_URL: { description: 'JWKS the gateway verifies access tokens with. Default: `<IDP_ISSUER>/jwks`.', schema: optionalUrl },
  ITEM_PORT: { description: 'Item subgraph port.', default: '4201', schema: port },
  CASE_PORT: { description: 'Case subgraph port.', default: '4202', schema: port },
  LICENCE_PORT: { description: 'Licence subgraph port.', default: '4203', schema: port },
  EVALUATION_PORT: { description: 'Evaluation subgraph port.', default: '4204', schema: port },
  ITEM_URL: { description: 'Item subgraph URL the gateway calls (overrides the supergraph).', default: 'http://127.0.0.1:4201/graphql', schema: url },
  CASE_URL: { description: 'Case subgraph URL the gateway calls.', default: 'http://127.0.0.1:4202/graphql', schema: url },
  LICENCE_URL: { description: 'Licence subgraph URL the gateway calls.', default: 'http://127.0.0.1:4203/graphql', schema: url },
  EVALUATION_URL: { description: 'Evaluation subgraph URL the gateway calls.', default: 'http://127.0.0.1:4204/graphql', schema: url },
  YIWANG_INTERNAL_SECRET: { description: 'HMAC key (≥ 32 chars) for identity assertions gateway → subgraphs and service → service calls. Generated in development.', schema: secret },
  KEY_PASSPHRASE: { description: 'Passphrase encrypting private keys at rest (IdP signing keys, seal keys). Generated in development.', schema: secret },
  YIWANG_TRUST_BUNDLE: { description: 'Trust anchors for `npx yiwang verify`: a PEM file path or the PEM itself. Default: `<DATA_DIR>/trust-bundle.pem` (written by the licence service on the embedded set-up).', schema: z.string().optional() },
  NOTIFY_SINK: { description: 'Where SMS notices go: `dev` (log + the file NOTIFY_DEV_FILE; refused in production) or `webhook` (the operator\'s SMS gateway).', default: 'dev', schema: z.enum(['dev', 'webhook']) },
  NOTIFY_DEV_FILE: { description: 'File the development sink appends notices to (JSON lines). Default: `<DATA_DIR>/notifications.jsonl`.', schema: z.string().optional() },
  NOTIFY_WEBHOOK_URL: { description: 'SMS gateway URL for NOTIFY_SINK=webhook.', schema: optionalUrl },
  NOTIFY_WEBHOOK_SECRET: { description: 'HMAC key (≥ 32 chars) signing webhook calls (`x-yiwang-signature: t=…,v1=…`).', schema: secret },
  IDP_PLATFORM_ID: { description: 'Identifier of this platform, recorded on every account registered here (R-ID-12: an account knows where it was registered).', default: 'yiwang', schema: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'lower-case letters, digits, dots and dashes') },
  IDP_PLATFORM_TIER: { description: 'Tier of this platform (`national`, `provincial`, `municipal`), recorded on every account registered here (R-ID-12).', default: 'municipal', schema: z.enum(['national', 'provincial', 'municipal']) },
  IDP_BUILD_MODE: { description: 'Build mode of registration and login in this platform\'s province (R-ID-12; national guide figures 3-8 … 3-10): `separate` (every tier stores its own users), `hybrid` (a city\'s login and registration are its province\'s; accounts live there), `unified` (one provincial store). Published in the federation metadata (`yiwang_platform.mode`); a city in `hybrid` mode is never a home platform in the directory.', default: 'separate', schema: z.enum(['separate', 'hybrid', 'unified']) },
  IDP_PLATFORM_REGION: { description: 'GB/T 2260 code of the region this platform serves (`000000` national, `330000` a province, `330100` a city), published in the federation metadata (`yiwang_platform.region`) for home-platform discovery (R-ID-12). Unset: none published.', schema: z.string().regex(/^\d{6}$/, 'a 6-digit GB/T 2260 region code').optional() },
  IDP_VERIFIER: { description: 'Where registration factors are verified (R-ID-1, R-ID-4): `dev` (the fixture registry IDP_VERIFY_FIXTURES; refused in production) or `webhook` (the operator\'s registry gateway at IDP_VERIFIER_URL).', default: 'dev', schema: z.enum(['dev', 'webhook']) },
  IDP_VERIFY_FIXTURES: { description: 'JSON file with the development verifier\'s registry (persons, companies, `unlisted`: `match` or `unknown`). Default: the built-in registry (demo people; unlisted people match).', schema: z.string().optional() },
  IDP_VERIFIER_URL: { description: 'Registry gateway URL for IDP_VERIFIER=webhook (POST JSON, answers `{"result":"match"|"mismatch"|"unknown"}`).', schema: optionalUrl },
  IDP_VERIFIER_SECRET: { description: 'HMAC key (≥ 32 chars) signing calls to IDP_VERIFIER_URL (`x-yiwang-signature: t=…,v1=…`).', schema: secret },
  IDP_OTP_TTL_SECONDS: { description: 'Lifetime of an SMS one-time code.', default: '300', schema: z.coerce.number().int().min(30).max(3600) },
  IDP_OTP_MAX_ATTEMPTS: { description: 'Wrong entries after which an SMS one-time code is void.', default: '5', schema: z.coerce.number().int().min(1).max(20) },
  IDP_OTP_RESEND_SECONDS: { description: 'Minimum seconds between two codes to the same number for the same purpose.', default: '60', schema: z.coerce.number().int().min(0).max(3600) },
  IDP_OTP_PER_HOUR: { description: 'Codes at most per mobile number per hour, and (times 5) per source address per hour.', default: '10', schema: z.coerce.number().int().min(1).max(1000) },
  IDP_LOGIN_MAX_FAILURES: { description: 'Failed logins on one account before it is locked for a while (the lock doubles with every further failure).', default: '5', schema: z.coerce.number().int().min(1).max(100) },
  IDP_LOGIN_LOCK_SECONDS: { description: 'First lock period after IDP_LOGIN_MAX_FAILURES failures (then doubled per failure, at most one day).', default: '60', schema: z.coerce.number().int().min(1).max(86400) },
  IDP_LOGIN_IP_MAX_FAILURES: { description: 'Failed logins from one source address per 15 minutes before that address is locked the same way.', default: '30', schema: z.coerce.number().int().min(1).max(10000) },
  IDP_REGISTER_PER_HOUR: { description: 'Registrations at most per source address per hour.', default: '30', schema: z.coerce.number().int().min(1).max(10000) },
  IDP_QR_TTL_SECONDS: { description: 'Lifetime of a login QR code (it must be scanned and approved within it).', default: '120', schema: z.coerce.number().int().min(30).max(600) },
  IDP_OUTBOUND_ALLOWED_NETWORKS: { description: 'Comma-separated CIDR networks among the special-use ranges (loopback, private, link-local …) that the IdP may call: partners\' back-channel logout URIs and key URLs on a private network. Outside them special-use addresses are refused, at partner registration already. Empty: public addresses only.', default: '', schema: z.string().refine((v) => { try { parseNetworks(v); return true; } catch { return false; } }, 'must be CIDR networks, e.g. 10.0.0.0/8,127.0.0.0/8') },
  IDP_BACKCHANNEL_MAX_ATTEMPTS: { description: 'Attempts at a back-channel logout delivery (the first included) before it is given up; retries back off 10 s, 1 min, 5 min, 30 min, 2 h.', default: '6', schema: z.coerce.number().int().min(1).max(20) },
  IDP_BACKCHANNEL_RETRY_MS: { description: 'How often the IdP looks for back-channel logout deliveries due for a retry (milliseconds).', default: '5000', schema: z.coerce.number().int().min(50) },
  IDENTITY_URL: { description: 'Identity subgraph URL the gateway calls (served by the IdP at `/graphql`: `me`, accounts, companies, delegations).', default: 'http://127.0.0.1:4100/graphql', schema: url },
  GATEWAY_DELEGATION_CHECK_SECONDS: { description: 'How long the gateway reuses what it read in the shared cache about a delegation (revoked, changed) before reading again: an acting-for token is refused at most this long after its delegation is revoked. 0 = read on every request.', default: '2', schema: z.coerce.number().int().min(0).max(30) },
  GATEWAY_DPOP_IAT_WINDOW_SECONDS: { description: 'How far (either way) the `iat` of a DPoP proof may be from the gateway\'s clock when the proof carries no server nonce (RFC 9449 §11.1); a proof outside it is answered with `use_dpop_nonce`.', default: '60', schema: z.coerce.number().int().min(5).max(300) },
  GATEWAY_DPOP_REQUIRE_NONCE: { description: 'Require a server nonce (`DPoP-Nonce`) in every DPoP proof sent to the gateway (RFC 9449 §8); without it a nonce is still honoured when a client sends one.', default: 'false', schema: z.stringbool() },
  GATEWAY_REVOCATION_CHECK_SECONDS: { description: 'How long the gateway reuses what it read in the shared cache about a grant or an account (revoked, disabled) before reading again: a revoked access token is refused at most this long after the revoke. 0 = read on every request.', default: '2', schema: z.coerce.number().int().min(0).max(30) },
  GATEWAY_RATE_LIMIT_WINDOW_SECONDS: { description: 'Length of the gateway\'s rate-limit window: the GATEWAY_RATE_LIMIT_PER_* counts are per window, shared by every gateway process through Redis.', default: '60', schema: z.coerce.number().int().min(1).max(3600) },
  GATEWAY_RATE_LIMIT_PER_IP: { description: 'Graph requests per client address per window (the address as TRUST_PROXY decides it; an office behind one NAT address shares it). 0 = no limit.', default: '1200', schema: z.coerce.number().int().min(0) },
  GATEWAY_RATE_LIMIT_PER_ACCOUNT: { description: 'Graph requests per account (the access token\'s subject) per window. 0 = no limit.', default: '300', schema: z.coerce.number().int().min(0) },
  GATEWAY_RATE_LIMIT_PER_CLIENT: { description: 'Graph requests per client application (the access token\'s `client_id`) per window, all its users together. 0 = no limit (the default: every citizen uses the portal client, so a limit here caps the whole portal).', default: '0', schema: z.coerce.number().int().min(0) },
  IDP_UPSTREAMS: { description: 'JSON file naming the trusted real-name platforms (other tiers\' OpenID Connect providers) people may register and log in through (R-ID-3): `[{ "id", "name": {"zh","en"}, "issuer", "clientId", "clientSecret", "level", "attributes", "tier", "region" }]` (docs/identity-accounts.md). Unset: none.', schema: z.string().optional() },
  IDP_LICENCE_TRUST_BUNDLE: { description: 'Trust anchors (a PEM file path, or the PEM itself) electronic business licences are verified against when a company registers with one (R-ID-4). Default: YIWANG_TRUST_BUNDLE, else `<DATA_DIR>/trust-bundle.pem`.', schema: z.string().optional() },
  IDP_BUSINESS_LICENCE_TYPES: { description: 'Comma-separated licence type codes accepted as electronic business licences (R-ID-4).', default: '11100000MB0000020R001', schema: z.string().regex(/^[0-9A-HJ-NPQRTUWXY]{18}\d{3}(,[0-9A-HJ-NPQRTUWXY]{18}\d{3})*$/, 'comma-separated licence type codes (credit code + 3 digits)') },
  IDP_LICENCE_STATUS_CACHE: { description: 'Directory of cached status-list credentials a business licence\'s status is checked with (used until each list expires). Default: YIWANG_STATUS_CACHE, else `<DATA_DIR>/status-cache`.', schema: z.string().optional() },
  IDP_LICENCE_STATUS_ONLINE: { description: 'Fetch a business licence\'s status lists from the URLs it names (only after its seal verified; only lists that verify are cached) before checking it.', default: 'true', schema: z.stringbool() },
  IDP_ENTERPRISE_CA_BUNDLE: { description: 'Trusted enterprise CAs (a PEM file path, or the PEM itself) whose certificates may bind a company (R-ID-4). Unset: the certificate route is off.', schema: z.string().optional() },
  IDP_ENTERPRISE_CRLS: { description: 'Comma-separated CRL files (PEM or DER) of the enterprise CAs, read at every check: a certificate they list is refused.', schema: z.string().optional() },
  IDP_CERT_CHALLENGE_TTL_SECONDS: { description: 'Lifetime of the challenge an enterprise certificate\'s key must sign (single use).', default: '300', schema: z.coerce.number().int().min(30).max(3600) },
  // --- identity --- add identity variables above this line
  YIWANG_SEAL_DIR: { description: 'Directory `npx yiwang seal …` keeps an offline seal CA in (certificates, encrypted keys under KEY_PASSPHRASE, CRLs). Default: `<DATA_DIR>/seal-ca`.', schema: z.string().optional() },
  YIWANG_STATUS_CACHE: { description: 'Directory `npx yiwang verify` caches status-list credentials in (used offline until they expire). Default: `<DATA_DIR>/status-cache`.', schema: z.string().optional() },
  LICENCE_PUBLIC_URL: { description: 'Public base URL of the licence service: status-list URLs inside licences and share links are built on it.', default: 'http://127.0.0.1:4203', schema: url },
  STATUS_LIST_TTL_SECONDS: { description: 'Lifetime of a published status-list credential (its `ttl` and `validUntil`); verifiers may use a cached copy that long.', default: '3600', schema: z.coerce.number().int().min(60).max(7 * 24 * 3600) },
  LICENCE_SEAL_MODE: { description: 'Where the licence service\'s seal and TSA certificates come from: `platform` (its own demonstration hierarchy: root, provincial CA and TSA made on first start, an agency\'s seal issued when it first issues a licence) `subordinate` (a platform of a federation, R-LI-3: its own seal CA, whose key and PKCS #10 request the service makes on first start, certified by the national root — `npx yiwang seal issue-ca --csr`, or the national platform in `npm run tiers` — and installed from LICENCE_SEAL_CA_CHAIN; agency seals and the TSA are then issued under it as in `platform` mode, and licences verify anywhere with only the national root as trust anchor) or `external` (never self-issued: the service makes the key and a PKCS #10 request, the offline CA certifies it with `npx yiwang seal issue-seal --csr`, staff install the chain; an agency without an installed seal gets SEAL_NOT_FOUND). `subordinate` needs LICENCE_TRUST_ANCHORS; `external` needs LICENCE_TRUST_ANCHORS and LICENCE_OPERATOR_AGENCY.', default: 'platform', schema: z.enum(['platform', 'subordinate', 'external']) },
  LICENCE_STATUS_REFRESH_SECONDS: { description: 'How long the licence service uses another platform\'s status list it fetched before fetching it again (R-LI-3: a revocation there shows here at most this long after); when the issuing platform cannot be reached, the copy serves until it expires (offline verification). 0: fetch at every verification.', default: '60', schema: z.coerce.number().int().min(0).max(24 * 3600) },
  LICENCE_SEAL_CA_NAME: { description: 'LICENCE_SEAL_MODE=subordinate: the common name the platform\'s seal CA request asks for. Default: `政务服务电子印章CA（<IDP_PLATFORM_ID>）`; the region (stateOrProvinceName) is IDP_PLATFORM_REGION.', schema: z.string().min(1).max(100).optional() },
  LICENCE_SEAL_CA_CHAIN: { description: 'LICENCE_SEAL_MODE=subordinate: PEM file with the certified seal CA chain (the CA certificate for the pending request, then its issuers up to the national root), installed at start when no seal CA is installed yet; the pending request is written to `<DATA_DIR>/seal-ca-request.pem`.', schema: z.string().optional() },
  LICENCE_TRUST_ANCHORS: { description: 'PEM file with the trust anchors installed chains must end at (the national root: `npx yiwang seal export-bundle`); they join the service\'s trust bundle (`GET /trust-bundle.pem`) and its verification.', schema: z.string().optional() },
  LICENCE_OPERATOR_AGENCY: { description: 'Unified social credit code of the agency operating the licence service: its deciders request, install and revoke the platform timestamp (TSA) certificate, and import the outside CA\'s CRLs (`importSealCrl`).', schema: z.string().refine(isValidCreditCode, 'must be a unified social credit code (GB 32100) with a correct check character').optional() },
  // --- licences --- add licence/seal variables above this line
  CASE_HOLIDAYS_FILE: { description: 'JSON holiday calendar for legal time limits (`{"holidays":["2026-01-01",…],"workdays":["2026-01-04",…]}`), merged over the shipped 2026 national calendar.', schema: z.string().optional() },
  CASE_WARN_WORKING_DAYS: { description: 'Warn when a case has this many working days or fewer left before its deadline (R-CA-8).', default: '2', schema: z.coerce.number().int().min(0).max(30) },
  CASE_DEADLINE_SCAN_MS: { description: 'How often the case service scans for cases to warn about or record as overdue (milliseconds).', default: '60000', schema: z.coerce.number().int().min(100) },
  APPOINTMENT_REMINDER_TIME: { description: 'Local time (Beijing, HH:MM) on the day before an appointment from which its SMS reminder is sent (R-CA-5).', default: '10:00', schema: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM') },
  APPOINTMENT_SUSPEND_DAYS: { description: 'Days online booking stays suspended after more than three no-shows in one calendar month (R-CA-5).', default: '30', schema: z.coerce.number().int().min(1).max(366) },
  APPOINTMENT_SCAN_MS: { description: 'How often the case service sends due appointment reminders, records no-shows and closes queue tickets left from earlier days (milliseconds).', default: '60000', schema: z.coerce.number().int().min(50) },
  CASE_PUBLIC_URL: { description: 'Public base URL of the case service: the tracking address in the acceptance receipt\'s QR code is `<CASE_PUBLIC_URL>/track/<case number>?code=<tracking code>` (R-CA-6).', default: 'http://127.0.0.1:4202', schema: url },
  CASE_MATERIALS_DIR: { description: 'Directory the case service stores uploaded materials in (content-addressed by SHA-256). Default: `<DATA_DIR>/materials`.', schema: z.string().optional() },
  CASE_MATERIAL_MAX_BYTES: { description: 'Largest material upload accepted (bytes).', default: '10485760', schema: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024) },
  // --- cases --- add case variables above this line
  EVALUATION_COMPLAINT_WORKING_DAYS: { description: 'Working days an agency has to answer a complaint (R-EV-1); a later answer, or none, creates an accountability record and counts in the rankings.', default: '5', schema: z.coerce.number().int().min(1).max(60) },
  EVALUATION_CONSULTATION_WORKING_DAYS: { description: 'Working days an agency has to answer a consultation (R-EV-2).', default: '3', schema: z.coerce.number().int().min(1).max(60) },
  EVALUATION_SUGGESTION_WORKING_DAYS: { description: 'Working days to answer a suggestion (R-EV-3).', default: '10', schema: z.coerce.number().int().min(1).max(60) },
  EVALUATION_FOLLOW_UP_WORKING_DAYS: { description: 'Working days an agency has to verify, rectify and answer a bad rating (R-EV-4).', default: '15', schema: z.coerce.number().int().min(1).max(90) },
  EVALUATION_OPERATOR_AGENCY: { description: 'Unified social credit code of the platform operator: suggestions about no agency or item go to its staff (R-EV-3). Unset: a suggestion must name an agency or item.', schema: z.string().refine(isValidCreditCode, 'must be a unified social credit code (GB 32100) with a correct check character').optional() },
  EVALUATION_RANKING_MINUTES: { description: 'How often the agency rankings are recomputed (R-EV-5): periods end on multiples of this many minutes.', default: '30', schema: z.coerce.number().int().min(1).max(1440) },
  EVALUATION_RANKING_WINDOW_DAYS: { description: 'Days of activity each ranking counts, up to the period end (R-EV-5).', default: '30', schema: z.coerce.number().int().min(1).max(366) },
  EVALUATION_SCAN_MS: { description: 'How often the evaluation service records late answers and follow-ups and checks whether a ranking period has ended (milliseconds).', default: '60000', schema: z.coerce.number().int().min(50) },
  FEDERATION_ENTITY_ID: { description: 'Entity Identifier of this platform in the OpenID Federation (R-ID-12): the https URL its Entity Configuration is served under (`<id>/.well-known/openid-federation`). Unset: this platform is not in a federation.', schema: optionalUrl },
  FEDERATION_PORT: { description: 'Port of the standalone federation service (`node federation/main.ts`: Entity Configuration, fetch, list, resolve) for a platform that runs its federation entity apart from its IdP (a national or provincial authority).', default: '4300', schema: port },
  FEDERATION_ORGANIZATION_NAME: { description: 'Organisation name published in this platform\'s federation metadata (`federation_entity.organization_name`).', default: 'Yiwang', schema: z.string().min(1).max(200) },
  FEDERATION_AUTHORITY_HINTS: { description: 'Comma-separated Entity Identifiers of this platform\'s immediate superiors (a city names its province, a province the national platform). Empty at the trust anchor.', schema: z.string().optional() },
  FEDERATION_TRUST_ANCHORS: { description: 'Trust anchors this platform accepts chains to: a JSON file path, or the JSON itself, `[{ "entityId", "jwks": { "keys": [...] } }]` (the national platform\'s federation public keys, obtained out of band: `npx yiwang federation anchor`). Unset: no chain is accepted.', schema: z.string().optional() },
  FEDERATION_ALLOWED_HOSTS: { description: 'Comma-separated host names (`host.example.cn`) or domains (`.gov.cn`: any host below it) that federation entities and endpoints may live on. Unset: any host (https only).', schema: z.string().optional() },
  FEDERATION_HTTP_HOSTS: { description: 'Comma-separated hosts on which federation entities may use plain http (development and tests only; refused in production).', schema: z.string().optional() },
  FEDERATION_ALLOWED_NETWORKS: { description: 'Comma-separated CIDR networks among the special-use ranges (loopback, private, link-local …) that federation requests may reach, checked on every address a name resolves to when the connection opens. Hosts named in FEDERATION_HTTP_HOSTS or FEDERATION_ALLOWED_HOSTS by IP address are allowed too. Empty: public addresses only.', default: '', schema: z.string().refine((v) => { try { parseNetworks(v); return true; } catch { return false; } }, 'must be CIDR networks, e.g. 10.0.0.0/8') },
  FEDERATION_STATEMENT_TTL_SECONDS: { description: 'Lifetime (`exp - iat`) of the Entity Configuration and Subordinate Statements this platform signs; also how long a retired federation key stays published.', default: '86400', schema: z.coerce.number().int().min(60).max(30 * 86400) },
  FEDERATION_CHAIN_CACHE_SECONDS: { description: 'How long a resolved trust chain is reused (never beyond the chain\'s own expiry): a platform whose superior stops vouching for it is no longer recognised at most this long after.', default: '300', schema: z.coerce.number().int().min(0).max(86400) },
  FEDERATION_FETCH_TIMEOUT_MS: { description: 'Time limit for one federation HTTP request (Entity Configuration, fetch, resolve).', default: '5000', schema: z.coerce.number().int().min(100).max(60000) },
  FEDERATION_FETCH_MAX_BYTES: { description: 'Largest federation response accepted (bytes).', default: '262144', schema: z.coerce.number().int().min(1024).max(16 * 1024 * 1024) },
  // --- federation --- add federation variables above this line
  // --- public guide pages (portal/) ---
  PORTAL_PORT: { description: 'Port of the public guide pages (search, item guides, hot list, scenario navigation).', default: '4300', schema: port },
  PORTAL_GATEWAY_URL: { description: 'The graph the public guide pages query (anonymously, public fields only): the gateway\'s `/graphql`.', default: 'http://127.0.0.1:4000/graphql', schema: url },
  PORTAL_EVALUATION_URL: { description: 'Base URL of the evaluation service whose live chat streams (`/chat/stream`, Server-Sent Events) the guide pages relay to a logged-in person (R-EV-2).', default: 'http://127.0.0.1:4204', schema: url },
  PORTAL_CLIENT_ID: { description: 'OpenID Connect client the guide pages log people in as (code + PKCE, redirect `<PORTAL_PUBLIC_URL>/callback`, which IDP_PORTAL_REDIRECT_URIS must list) to open a live chat.', default: 'yiwang-portal', schema: z.string().min(1) },
  PORTAL_PUBLIC_URL: { description: 'Public base URL of the guide pages: the share QR code of an item guide points to `<PORTAL_PUBLIC_URL>/items/<id>`.', default: 'http://127.0.0.1:4300', schema: url },
  GATEWAY_SUPERGRAPH: { description: 'Supergraph file the gateway serves. Default: schema/supergraph.graphql (`npm run compose`).', schema: z.string().optional() },
  GATEWAY_SUBGRAPH_TIMEOUT_MS: { description: 'How long the gateway waits for one subgraph fetch (milliseconds); past it the fields that subgraph owes are null with SERVICE_UNAVAILABLE at their paths and the rest of the answer is returned.', default: '10000', schema: z.coerce.number().int().min(50).max(300000) },
  GATEWAY_MAX_DEPTH: { description: 'Deepest field nesting an operation may have (GraphQL Armor max-depth; LIMIT_DEPTH).', default: '15', schema: z.coerce.number().int().min(1).max(100) },
  GATEWAY_MAX_ALIASES: { description: 'Most aliases in one operation (GraphQL Armor max-aliases; LIMIT_ALIASES).', default: '30', schema: z.coerce.number().int().min(0).max(10000) },
  GATEWAY_MAX_TOKENS: { description: 'Most lexical tokens in one document (GraphQL Armor max-tokens; LIMIT_TOKENS).', default: '2000', schema: z.coerce.number().int().min(100).max(1000000) },
  GATEWAY_MAX_DIRECTIVES: { description: 'Most directives in one operation (GraphQL Armor max-directives; LIMIT_DIRECTIVES).', default: '50', schema: z.coerce.number().int().min(0).max(10000) },
  GATEWAY_MAX_COST: { description: 'Highest demand-control cost an operation may have (IBM/GraphQL cost spec: `@cost`, `@listSize`, objects 1, scalars 0, mutations 10; LIMIT_COST). The default admits three nested lists of GATEWAY_LIST_SIZE items.', default: '10000', schema: z.coerce.number().int().min(1).max(100000000) },
  GATEWAY_LIST_SIZE: { description: 'Assumed size of a list field without `@listSize` when computing an operation\'s cost.', default: '20', schema: z.coerce.number().int().min(0).max(100000) },
  GATEWAY_PERSISTED_ONLY: { description: 'Serve only the trusted documents in the manifest (schema/persisted-documents.json, generated by `npm run persisted`), sent by id as `{"documentId": "sha256:…"}` or as the exact text; anything else is refused with PERSISTED_QUERY_ONLY. Turn on in production.', default: 'false', schema: z.stringbool() },
  GATEWAY_PERSISTED_MANIFEST: { description: 'Trusted-documents manifest the gateway reads. Default: schema/persisted-documents.json.', schema: z.string().optional() },
  GATEWAY_OTLP_ENDPOINT: { description: 'OTLP/HTTP traces endpoint (e.g. `http://127.0.0.1:4318/v1/traces`). Unset: no traces are exported (and none are made).', schema: optionalUrl },
  SEED_DEMO: { description: 'Seed demo agencies, items, staff and a citizen at start (idempotent).', default: 'false', schema: z.stringbool() },
} as const satisfies Record<string, VariableSpec>;

type Vars = typeof VARIABLES;
export type Config = { [K in keyof Vars]: z.output<Vars[K]['schema']> };

/** Read and validate every variable; throws CONFIG_INVALID naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(VARIABLES) as Array<[string, VariableSpec]>) {
    const raw = env[name] === '' ? undefined : env[name] ?? spec.default;
    const r = spec.schema.safeParse(raw);
    if (r.success) out[name] = r.data;
    else problems.push(`${name}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length) throw new AppError('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`);
  const config = out as Config;
  if (config.NODE_ENV === 'production') {
    const missing = (['YIWANG_INTERNAL_SECRET', 'KEY_PASSPHRASE', 'IDP_COOKIE_KEYS'] as const).filter((k) => !config[k]);
    if (missing.length) throw new AppError('CONFIG_INVALID', `invalid configuration: production needs ${missing.join(', ')}`);
  }
  if (config.NOTIFY_SINK === 'webhook' && (!config.NOTIFY_WEBHOOK_URL || !config.NOTIFY_WEBHOOK_SECRET)) {
    throw new AppError('CONFIG_INVALID', 'invalid configuration: NOTIFY_SINK=webhook needs NOTIFY_WEBHOOK_URL and NOTIFY_WEBHOOK_SECRET');
  }
  if (config.LICENCE_SEAL_MODE === 'subordinate' && !config.LICENCE_TRUST_ANCHORS) {
    throw new AppError('CONFIG_INVALID', 'invalid configuration: LICENCE_SEAL_MODE=subordinate needs LICENCE_TRUST_ANCHORS (the national root)');
  }
  if (config.LICENCE_SEAL_MODE === 'external' && (!config.LICENCE_TRUST_ANCHORS || !config.LICENCE_OPERATOR_AGENCY)) {
    throw new AppError('CONFIG_INVALID', 'invalid configuration: LICENCE_SEAL_MODE=external needs LICENCE_TRUST_ANCHORS and LICENCE_OPERATOR_AGENCY');
  }
  if (config.NODE_ENV === 'production' && config.FEDERATION_HTTP_HOSTS?.trim()) {
    throw new AppError('CONFIG_INVALID', 'invalid configuration: FEDERATION_HTTP_HOSTS allows plain http and is refused in production');
  }
  if (config.NODE_ENV === 'production' && config.NOTIFY_SINK === 'dev') {
    throw new AppError('CONFIG_INVALID', 'invalid configuration: NOTIFY_SINK=dev writes codes to a file; production needs NOTIFY_SINK=webhook');
  }
  return config;
}

export interface Secrets {
  internalSecret: string;
  keyPassphrase: string;
  cookieKeys: string[];
}

/**
 * The secrets, from the environment or (outside production) generated once into
 * DATA_DIR/secrets.json with mode 0600 so restarts keep sessions, tokens and keys usable.
 */
export function resolveSecrets(config: Config): Secrets {
  const file = join(resolve(config.DATA_DIR), 'secrets.json');
  let stored: Partial<Secrets> = {};
  const needFile = !config.YIWANG_INTERNAL_SECRET || !config.KEY_PASSPHRASE || !config.IDP_COOKIE_KEYS;
  if (needFile) {
    if (config.NODE_ENV === 'production') throw new AppError('CONFIG_INVALID', 'production needs explicit secrets');
    if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>;
  }
  const gen = () => randomBytes(32).toString('base64url');
  const s: Secrets = {
    internalSecret: config.YIWANG_INTERNAL_SECRET ?? stored.internalSecret ?? gen(),
    keyPassphrase: config.KEY_PASSPHRASE ?? stored.keyPassphrase ?? gen(),
    cookieKeys: config.IDP_COOKIE_KEYS?.split(',').map((x) => x.trim()).filter(Boolean) ?? stored.cookieKeys ?? [gen()],
  };
  if (needFile && JSON.stringify(stored) !== JSON.stringify(s)) {
    mkdirSync(resolve(config.DATA_DIR), { recursive: true });
    writeFileSync(file, JSON.stringify(s, null, 2), { mode: 0o600 });
  }
  return s;
}
