/**
 * Test infrastructure: real PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set (CI),
 * embedded PGlite and the in-process cache otherwise. Each call gets an isolated database
 * (a fresh PostgreSQL database, or a fresh in-memory PGlite) and a unique Redis key prefix.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDb, type Db } from '../../kernel/db.ts';
import { createClient } from 'redis';
import { MemoryCache, openCache, type Cache } from '../../kernel/cache.ts';

export const usingRealServices = Boolean(process.env.DATABASE_URL);

export interface TestDb extends Db {
  /** Its own URL (PostgreSQL) so separate processes can share it; undefined for PGlite. */
  readonly url: string | undefined;
  /** Close and drop. */
  destroy(): Promise<void>;
}

export async function testDb(): Promise<TestDb> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    const db = await openDb({ dataDir: 'memory://' });
    return Object.assign(db, { url: undefined, destroy: () => db.close() });
  }
  const name = `yw_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  const db = await openDb({ url: u.toString(), poolSize: 5 });
  return Object.assign(db, {
    url: u.toString(),
    async destroy() {
      await db.close();
      const a = new pg.Client({ connectionString: base });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  });
}

export async function testCache(): Promise<Cache & { prefix: string }> {
  const prefix = `yw-test:${randomBytes(6).toString('hex')}:`;
  const cache = await openCache({ url: process.env.REDIS_URL, prefix });
  return Object.assign(cache, { prefix });
}

/**
 * Delete every key under the cache's own prefix, as Redis restarted without persistence loses
 * them: SCAN + DEL on the prefix, never FLUSHALL or FLUSHDB (other tests share the server).
 * Returns how many keys went.
 */
export async function loseEverything(cache: Cache & { prefix?: string }): Promise<number> {
  if (cache instanceof MemoryCache) return cache.clear();
  if (!cache.prefix || !process.env.REDIS_URL) throw new Error('loseEverything needs the test cache (its own prefix) on REDIS_URL');
  const raw = createClient({ url: process.env.REDIS_URL });
  await raw.connect();
  let n = 0;
  try {
    for await (const keys of raw.scanIterator({ MATCH: `${cache.prefix}*`, COUNT: 500 })) {
      if (keys.length) n += await raw.del(keys);
    }
  } finally {
    await raw.close();
  }
  return n;
}

export const TEST_SECRET = 'test-internal-secret-0123456789abcdef-0123456789';

/** A port that was free a moment ago (for a server whose own URL must be configured before it listens, e.g. the IdP issuer). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
