/**
 * Configuration: every environment variable the platform reads, declared once with its default
 * and meaning, validated at start-up into one typed object. A bad value stops the process with a
 * message naming the variable. README's configuration table is checked against VARIABLES.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { AppError } from './errors.ts';

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
  DATA_DIR: { description: 'Embedded PostgreSQL (PGlite) data and generated development secrets.', default: './data', schema: z.string().min(1) },
  DATABASE_URL: { description: 'PostgreSQL URL. Unset: embedded PGlite under DATA_DIR.', schema: optionalUrl },
  DATABASE_POOL_SIZE: { description: 'Connections per process in the pg pool.', default: '10', schema: z.coerce.number().int().min(1).max(200) },
  REDIS_URL: { description: 'Redis URL. Unset: in-process substitute (single process only).', schema: optionalUrl },
  REDIS_PREFIX: { description: 'Prefix for every Redis key and stream (lets tiers or tests share a server).', default: 'yw:', schema: z.string() },
  IDP_ISSUER: { description: 'OpenID Connect issuer URL of the IdP (as clients and the gateway see it).', default: 'http://127.0.0.1:4100', schema: url },
  IDP_PORT: { description: 'IdP listening port.', default: '4100', schema: port },
  IDP_COOKIE_KEYS: { description: 'Comma-separated keys signing IdP cookies (first signs, all verify). Generated in development.', schema: z.string().optional() },
  IDP_PORTAL_REDIRECT_URIS: { description: 'Comma-separated redirect URIs of the first-party portal client `yiwang-portal` (public client, code + PKCE).', default: 'http://127.0.0.1:3000/callback,http://localhost:3000/callback', schema: z.string().min(1) },
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
  // --- identity (issue 3) --- add identity variables above this line
  // --- licences (issue 4) --- add licence/seal variables above this line
  // --- cases (issue 5) --- add case variables above this line
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
