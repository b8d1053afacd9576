/**
 * One database interface over two engines: PostgreSQL through `pg` (production and CI, when
 * DATABASE_URL is set) and embedded PGlite (the default for `npm start`, data under DATA_DIR).
 * Same SQL and migrations for both. Every service keeps its own schema and never reads another's.
 */
import pg from 'pg';
import { AppError, isAppError } from './errors.ts';

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
}

export interface Db extends Queryable {
  readonly engine: 'postgres' | 'pglite';
  /** Run `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DbOptions {
  /** postgres:// URL; when absent, PGlite is used. */
  url?: string | undefined;
  /** PGlite data directory; `memory://` for a throw-away in-memory database. */
  dataDir?: string | undefined;
  /** pg pool size. */
  poolSize?: number | undefined;
}

export async function openDb(opts: DbOptions): Promise<Db> {
  return opts.url ? openPostgres(opts.url, opts.poolSize ?? 10) : openPglite(opts.dataDir ?? 'memory://');
}

async function openPostgres(url: string, max: number): Promise<Db> {
  // int8 (e.g. count(*)) as JS number: counts here stay far below 2^53.
  pg.types.setTypeParser(20, (v: string) => Number(v));
  // A bounded wait for a connection: while the server is down or restarting, a request gets
  // SERVICE_UNAVAILABLE after this long instead of hanging. New connections are opened on
  // demand, so the pool reconnects by itself once the server is back.
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // Errors of idle clients (the server ended them): the pool drops the client; the next use opens a new one.
  pool.on('error', () => undefined);
  const run = async <T>(c: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]): Promise<QueryResult<T>> => {
    try {
      const r = await c.query(sql, params as unknown[] | undefined);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
    } catch (e) {
      throw asUnavailable(e);
    }
  };
  await run(pool, 'select 1');
  return {
    engine: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    async tx(fn) {
      // A checked-out client has no listener of the pool's: without this one, the server ending
      // the connection inside the transaction (a restart, pg_terminate_backend) while `fn` waits
      // on something else (the outbox relay waits on Redis) is an unhandled 'error' event, which
      // ends the process. Here it only marks the client broken; the next query on it fails, the
      // transaction is rolled back by the server, and the client is discarded, not pooled. The
      // listener is attached in pool.connect's callback, synchronously: the server's message
      // ending a fresh connection may arrive in the same packet as its readiness, before an
      // awaited promise would resume.
      let broken: unknown;
      const onError = (e: unknown) => { broken ??= e; };
      const client = await new Promise<pg.PoolClient>((resolve, reject) => {
        pool.connect((err, c) => {
          if (err || !c) { reject(asUnavailable(err ?? new Error('no client'))); return; }
          c.on('error', onError);
          resolve(c);
        });
      });
      try {
        await run(client, 'begin');
        const out = await fn({ query: (sql, params) => run(client, sql, params) });
        await run(client, 'commit');
        return out;
      } catch (e) {
        if (broken === undefined) await client.query('rollback').catch((r: unknown) => { broken = r; });
        throw broken !== undefined ? asUnavailable(e) : e;
      } finally {
        client.removeListener('error', onError);
        client.release(broken instanceof Error ? broken : broken !== undefined ? new Error(String(broken)) : undefined);
      }
    },
    close: () => pool.end(),
  };
}

async function openPglite(dataDir: string): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(dataDir);
  type Runner = { query: typeof db.query };
  const run = async <T>(c: Runner, sql: string, params?: unknown[]): Promise<QueryResult<T>> => {
    // PGlite's extended protocol takes one statement; parameterless calls may hold several (migrations).
    if (!params || params.length === 0) {
      const results = await (c as typeof db).exec(sql);
      const last = results[results.length - 1];
      // PGlite reports affectedRows 0 for SELECT; pg's rowCount counts returned rows there.
      return { rows: (last?.rows ?? []) as T[], rowCount: Math.max(last?.affectedRows ?? 0, last?.rows.length ?? 0) };
    }
    const r = await c.query<T>(sql, params);
    return { rows: r.rows, rowCount: Math.max(r.affectedRows ?? 0, r.rows.length) };
  };
  return {
    engine: 'pglite',
    query: (sql, params) => run(db, sql, params),
    tx: (fn) => db.transaction((t) => fn({ query: (sql, params) => run(t as unknown as Runner, sql, params) })),
    close: () => db.close(),
  };
}

/** How long a query waits for a pooled connection before it fails as SERVICE_UNAVAILABLE. */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The connection failed, not the statement: the server is down, restarting or shutting down
 * (SQLSTATE class 08, 57P01-57P03), the socket broke, or no connection came in time. Such a
 * failure says nothing about the request; the same request may succeed once the server is back.
 */
export function isConnectionError(e: unknown): boolean {
  if (isAppError(e)) return e.code === 'SERVICE_UNAVAILABLE';
  const code = pgCode(e) ?? '';
  if (code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  const message = e instanceof Error ? e.message : '';
  return /^Connection terminated|connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect|Connection ended unexpectedly/i.test(message);
}

/**
 * A connection failure as the retryable SERVICE_UNAVAILABLE (HTTP 503 with Retry-After, the
 * same code in GraphQL, "not yet" for event consumers); any other error unchanged. The
 * original is kept as `cause` for the log, never shown to the client.
 */
export function asUnavailable(e: unknown): unknown {
  if (isAppError(e) || !isConnectionError(e)) return e;
  const err = new AppError('SERVICE_UNAVAILABLE', '数据库暂不可用，请稍后重试 / the database is unavailable; retry shortly');
  Object.defineProperty(err, 'cause', { value: e, enumerable: false });
  return err;
}

/** Postgres error code of a failed query (e.g. '23505' unique violation), if any. */
export function pgCode(e: unknown): string | undefined {
  return !isAppError(e) && typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string'
    ? (e as { code: string }).code : undefined;
}
