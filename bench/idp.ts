/**
 * `npm run bench idp`: the identity provider's throughput on real PostgreSQL and Redis.
 *
 * - Password logins per second: the whole authorization-code + PKCE login of the portal client
 *   as a browser does it (authorize → login page → ID number + password → consent → code →
 *   token endpoint), BENCH_IDP_CONCURRENCY at a time, each in a fresh browser (cookie jar).
 *   Argon2id (memory-hard, idp/accounts/password.ts) dominates it by design, so the same run also measures
 *   bare Argon2id verifications per second on this machine (the ceiling for logins), and bare
 *   verifications of the scrypt hashes written before (N=2^15), for the before/after comparison.
 * - Token-endpoint requests per second with Redis storage: refresh_token grants on our IdP
 *   (rotating refresh tokens in Redis, a new RS256 JWT access token for the gateway each time),
 *   against the baseline: **bare oidc-provider** (memory adapter, client_credentials, opaque
 *   tokens, no hooks) measured in the same run, on the same machine, with the same client code.
 *   The ratio is ours / bare.
 *
 * Variables: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres, needs CREATEDB),
 * REDIS_URL (default redis://127.0.0.1:6379), BENCH_IDP_SECONDS (per measurement, default 8),
 * BENCH_IDP_CONCURRENCY (default 8).
 */
import { randomBytes, scryptSync } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import * as client from 'openid-client';
import Provider from 'oidc-provider';
import pg from 'pg';
import type { BenchResult } from './run.ts';
import { loadConfig, resolveSecrets } from '../kernel/config.ts';
import { openDb } from '../kernel/db.ts';
import { openCache } from '../kernel/cache.ts';
import { systemClock } from '../kernel/clock.ts';
import { internalKey } from '../kernel/internal-auth.ts';
import { silentLogger } from '../kernel/log.ts';
import { DEMO_CITIZEN } from '../kernel/demo.ts';
import type { Deps } from '../kernel/service.ts';
import { hashPassword, verifyPassword } from '../idp/accounts/password.ts';
import { startIdpService } from '../idp/service.ts';
import { loginWithPkce } from '../bin/journey/browser.ts';

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
const SECONDS = Number(process.env.BENCH_IDP_SECONDS ?? 8);
const CONCURRENCY = Number(process.env.BENCH_IDP_CONCURRENCY ?? 8);
const REDIRECT = 'http://127.0.0.1:3000/callback';
const GATEWAY = 'http://127.0.0.1:4000/graphql';

/** Run `op` from `workers` loops for `seconds`; returns completed operations per second and p95 ms. */
async function measure(seconds: number, workers: number, op: (worker: number) => Promise<void>): Promise<{ perSecond: number; p95: number; done: number; errors: number }> {
  const until = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: workers }, async (_, w) => {
    while (performance.now() < until) {
      const t = performance.now();
      try {
        await op(w);
        latencies.push(performance.now() - t);
      } catch {
        errors += 1;
        if (errors > 50) throw new Error('too many errors');
      }
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / elapsed, p95: latencies[Math.floor(latencies.length * 0.95)] ?? 0, done: latencies.length, errors };
}

async function bareProvider(): Promise<{ url: string; server: Server }> {
  const provider = new Provider('http://127.0.0.1', {
    clients: [{ client_id: 'bench', client_secret: 'bench-secret-0123456789abcdef0123', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }],
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  });
  const server = createServer(provider.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/**
 * Our IdP as `npm start` runs it (seeded with the demo accounts), on a database of its own
 * (created here, dropped by close()) and a Redis key prefix of its own.
 */
async function startIdp(env: Record<string, string>): Promise<{ issuer: string; close(): Promise<void> }> {
  const base = process.env.DATABASE_URL!;
  const name = `yw_bench_idp_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const port = await new Promise<number>((resolve, reject) => {
    const s = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const issuer = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: url.toString(), REDIS_URL: process.env.REDIS_URL!,
    REDIS_PREFIX: `yw-bench:${name}:`, DATA_DIR: `/tmp/${name}`, IDP_ISSUER: issuer, IDP_PORT: String(port),
    YIWANG_INTERNAL_SECRET: randomBytes(32).toString('hex'), KEY_PASSPHRASE: randomBytes(32).toString('hex'),
    IDP_COOKIE_KEYS: randomBytes(32).toString('hex'),
    ...env,
  });
  const secrets = resolveSecrets(config);
  const db = await openDb({ url: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE });
  const cache = await openCache({ url: config.REDIS_URL, prefix: config.REDIS_PREFIX });
  const deps: Deps = { config, secrets, internalKey: internalKey(secrets.internalSecret), db, cache, clock: systemClock, log: silentLogger() };
  const svc = await startIdpService(deps, { port, host: '127.0.0.1', seed: true });
  return {
    issuer,
    async close() {
      await svc.close();
      await cache.close();
      await db.close();
      const a = new pg.Client({ connectionString: base });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
      rmSync(`/tmp/${name}`, { recursive: true, force: true });
    },
  };
}

export default async function bench(): Promise<BenchResult> {
  const idp = await startIdp({ GATEWAY_RESOURCE: GATEWAY, IDP_PORTAL_REDIRECT_URIS: REDIRECT, IDP_LOGIN_IP_MAX_FAILURES: '10000', IDP_LOGIN_MAX_FAILURES: '100' });
  const bare = await bareProvider();
  try {
    const login = () => loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, resource: GATEWAY, login: DEMO_CITIZEN.idNumber, password: DEMO_CITIZEN.password });
    await login(); // warm-up: discovery, keys, JIT

    // Baseline for logins: bare Argon2id verifications (the memory-hard cost every login pays),
    // and bare verifications of a hash as written before (scrypt N=2^15, r=8, p=1).
    const stored = await hashPassword(DEMO_CITIZEN.password);
    const argon = await measure(Math.min(SECONDS, 4), CONCURRENCY, async () => { await verifyPassword(DEMO_CITIZEN.password, stored); });
    const salt = randomBytes(16);
    const legacy = ['scrypt', 15, 8, 1, salt.toString('base64url'),
      scryptSync(DEMO_CITIZEN.password, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }).toString('base64url')].join('$');
    const scrypt = await measure(Math.min(SECONDS, 4), CONCURRENCY, async () => { await verifyPassword(DEMO_CITIZEN.password, legacy); });

    const logins = await measure(SECONDS, CONCURRENCY, async () => { await login(); });

    // Token endpoint, ours: one refresh chain per worker (refresh tokens rotate).
    const chains = await Promise.all(Array.from({ length: CONCURRENCY }, () => login()));
    const tokens = chains.map((c) => c.refresh_token!);
    const ours = await measure(SECONDS, CONCURRENCY, async (w) => {
      const r = await client.refreshTokenGrant(chains[w]!.config, tokens[w]!);
      tokens[w] = r.refresh_token!;
    });

    // Token endpoint, bare oidc-provider: client_credentials, memory adapter.
    const basic = `Basic ${Buffer.from('bench:bench-secret-0123456789abcdef0123').toString('base64')}`;
    const bareOp = async () => {
      const res = await fetch(`${bare.url}/token`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
      if (res.status !== 200) throw new Error(`bare token ${res.status}`);
      await res.json();
    };
    await bareOp();
    const baseline = await measure(SECONDS, CONCURRENCY, bareOp);

    const ratio = baseline.perSecond ? ours.perSecond / baseline.perSecond : null;
    const r2 = (n: number) => Math.round(n * 100) / 100;
    return {
      figures: {
        concurrency: CONCURRENCY,
        storage: 'PostgreSQL + Redis',
        passwordLoginsPerSecond: r2(logins.perSecond),
        passwordLoginP95Ms: Math.round(logins.p95),
        passwordHash: 'argon2id m=19456 KiB, t=2, p=1',
        baselineArgon2idVerifyPerSecond: r2(argon.perSecond),
        loginsPerArgon2idRatio: argon.perSecond ? r2(logins.perSecond / argon.perSecond) : null,
        beforeScryptN15VerifyPerSecond: r2(scrypt.perSecond),
        tokenRequestsPerSecond: r2(ours.perSecond),
        tokenP95Ms: Math.round(ours.p95),
        baselineBareClientCredentialsPerSecond: r2(baseline.perSecond),
        baselineP95Ms: Math.round(baseline.p95),
        tokenRatio: ratio === null ? null : r2(ratio),
        errors: logins.errors + ours.errors + baseline.errors,
      },
      summary: [
        `password logins (full code + PKCE flow, ${CONCURRENCY} at a time): ${r2(logins.perSecond)}/s, p95 ${Math.round(logins.p95)} ms`,
        `  baseline: bare Argon2id verifications ${r2(argon.perSecond)}/s (the floor every login pays; ratio ${argon.perSecond ? r2(logins.perSecond / argon.perSecond) : 'n/a'})`,
        `  before: bare scrypt N=2^15 verifications (hashes written before Argon2id, rehashed at their next login) ${r2(scrypt.perSecond)}/s`,
        `token endpoint, refresh_token grant with Redis storage: ${r2(ours.perSecond)}/s, p95 ${Math.round(ours.p95)} ms`,
        `  baseline: bare oidc-provider (memory adapter, client_credentials): ${r2(baseline.perSecond)}/s, p95 ${Math.round(baseline.p95)} ms`,
        `  ratio ours / bare: ${ratio === null ? 'n/a' : r2(ratio)}`,
      ],
    };
  } finally {
    await new Promise((r) => bare.server.close(r));
    bare.server.closeAllConnections();
    await idp.close();
  }
}
