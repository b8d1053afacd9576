/**
 * A PostgreSQL database of a benchmark's own: created on the server of `base` (the user needs
 * CREATEDB) under a fresh name, dropped (connections and all) when the benchmark ends, so runs
 * never share state and leave nothing behind.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface ScratchDatabase {
  name: string;
  /** Its URL: `base` with the database name replaced (query options kept). */
  url: URL;
  drop(): Promise<void>;
}

async function adminQuery(base: string, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try { await admin.query(sql); } finally { await admin.end(); }
}

export async function scratchDatabase(base: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await adminQuery(base, `create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { name, url, drop: () => adminQuery(base, `drop database if exists ${name} with (force)`) };
}
