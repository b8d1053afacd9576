/**
 * How every process is built and run. A service is a factory taking its dependencies and
 * returning something that listens; `npm start` (bin/start.ts) runs all of them in one process
 * on one embedded database and cache, and each `<service>/main.ts` runs one alone for production.
 */
import type { KeyObject } from 'node:crypto';
import type { Cache } from './cache.ts';
import type { Clock } from './clock.ts';
import type { Config, Secrets } from './config.ts';
import type { Db } from './db.ts';
import type { Logger } from './log.ts';
import { loadConfig, resolveSecrets } from './config.ts';
import { openDb } from './db.ts';
import { openCache } from './cache.ts';
import { createLogger } from './log.ts';
import { systemClock } from './clock.ts';
import { internalKey } from './internal-auth.ts';
import { join, resolve } from 'node:path';
import { mkdirSync, openSync, closeSync, writeSync, readFileSync, unlinkSync } from 'node:fs';
import { AppError } from './errors.ts';

export interface Deps {
  config: Config;
  secrets: Secrets;
  /** HMAC key derived from secrets.internalSecret (identity assertions, service tokens). */
  internalKey: KeyObject;
  db: Db;
  cache: Cache;
  clock: Clock;
  log: Logger;
}

export interface RunningService {
  name: string;
  /** Base URL, e.g. http://127.0.0.1:4201 */
  url: string;
  /** Stop background work, then the HTTP server. Does not close db or cache (the caller owns them). */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Port to listen on; 0 for any free port (tests). */
  port: number;
  host?: string;
  /** Seed demo data (idempotent). */
  seed?: boolean;
}

export type ServiceFactory = (deps: Deps, opts: StartOptions) => Promise<RunningService>;

/** Which shared stores a process uses; the gateway uses the cache only (delegation markers). */
export interface Needs { db: boolean; cache: boolean }

/** Stands in for a store a process declared it does not use: any use is a programming error. */
function absent<T extends object>(what: string, name: string): T {
  return new Proxy({} as T, {
    get(_t, prop) {
      if (prop === 'close') return async () => undefined;
      if (prop === 'then') return undefined;
      throw new Error(`${name} was started without a ${what} (it declared it does not need one)`);
    },
  });
}

/**
 * PGlite serves exactly one process, and two processes writing one data directory corrupt it.
 * Take an exclusive lock file holding our pid; a lock left by a dead process is taken over.
 * Returns the release function.
 */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, '.yiwang.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try { unlinkSync(file); } catch { /* already gone */ }
      };
      process.once('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new AppError('DATA_DIR_LOCKED', `the embedded database in ${dir} is in use by process ${pid}: stop it first, or set DATABASE_URL to share a PostgreSQL server`);
      }
      unlinkSync(file); // stale: its process is gone
    }
  }
  throw new AppError('DATA_DIR_LOCKED', `could not lock ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Open the shared dependencies from configuration. */
export async function openDeps(name: string, config: Config = loadConfig(), needs: Needs = { db: true, cache: true }): Promise<Deps> {
  if (config.NODE_ENV === 'production') {
    // The embedded stores are for one development process; production shares real servers.
    if (needs.db && !config.DATABASE_URL) throw new AppError('CONFIG_INVALID', `invalid configuration: production ${name} needs DATABASE_URL`);
    if (needs.cache && !config.REDIS_URL) throw new AppError('CONFIG_INVALID', `invalid configuration: production ${name} needs REDIS_URL`);
  }
  const log = createLogger(name, config.LOG_LEVEL);
  const secrets = resolveSecrets(config);
  let db: Db = absent<Db>('database', name);
  if (needs.db) {
    let dataDir: string | undefined;
    if (!config.DATABASE_URL) {
      dataDir = join(resolve(config.DATA_DIR), 'pglite');
      mkdirSync(dataDir, { recursive: true });
    }
    const release = dataDir ? lockDataDir(dataDir) : () => undefined;
    try {
      const opened = await openDb({ url: config.DATABASE_URL, dataDir, poolSize: config.DATABASE_POOL_SIZE });
      db = { ...opened, close: async () => { try { await opened.close(); } finally { release(); } } };
    } catch (e) {
      release();
      throw e;
    }
  }
  const cache = needs.cache ? await openCache({ url: config.REDIS_URL, prefix: config.REDIS_PREFIX }) : absent<Cache>('cache', name);
  return { config, secrets, internalKey: internalKey(secrets.internalSecret), db, cache, clock: systemClock, log };
}

/** Run services until SIGINT/SIGTERM, then stop them in reverse order and close shared deps. */
export function stopOnSignals(deps: Deps, services: RunningService[], onStopped?: () => void): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.log.info({ signal }, 'stopping');
    for (const s of [...services].reverse()) await s.close().catch((e) => deps.log.error({ err: e, svc: s.name }, 'close failed'));
    await deps.cache.close().catch(() => undefined);
    await deps.db.close().catch(() => undefined);
    onStopped?.();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

/** Entry point of a single-service process: `node subgraphs/item/main.ts`. */
export async function runStandalone(name: string, factory: ServiceFactory, port: (c: Config) => number, needs?: Needs): Promise<void> {
  const deps = await openDeps(name, loadConfig(), needs);
  try {
    const svc = await factory(deps, { port: port(deps.config), host: deps.config.BIND_HOST, seed: deps.config.SEED_DEMO });
    deps.log.info({ url: svc.url }, `${name} listening`);
    stopOnSignals(deps, [svc]);
  } catch (e) {
    deps.log.fatal({ err: e }, `${name} failed to start`);
    process.exit(1);
  }
}
