/**
 * One database interface over two engines: PostgreSQL through `pg` (production and CI, when
 * DATABASE_URL is set) and embedded PGlite (the default for `npm start`, data under DATA_DIR).
 * Same SQL and migrations for both. Every service keeps its own schema and never reads another's.
 */
import pg from 'pg';

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
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => { /* idle client errors surface on next use */ });
  const run = async <T>(c: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]): Promise<QueryResult<T>> => {
    const r = await c.query(sql, params as unknown[] | undefined);
    return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
  };
  await run(pool, 'select 1');
  return {
    engine: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    async tx(fn) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const out = await fn({ query: (sql, params) => run(client, sql, params) });
        await client.query('commit');
        return out;
      } catch (e) {
        await client.query('rollback').catch(() => undefined);
        throw e;
      } finally {
        client.release();
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

/** Postgres error code of a failed query (e.g. '23505' unique violation), if any. */
export function pgCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string'
    ? (e as { code: string }).code : undefined;
}
