/**
 * Forward-only migrations, one list per service schema. Each migration runs in its own
 * transaction under an advisory lock, so several processes starting at once apply it once.
 * Migrations are TypeScript modules (not .sql files) so the built `dist/` carries them too.
 */
import type { Db } from './db.ts';

export interface Migration {
  /** Sortable, never renamed: '001_init'. */
  readonly id: string;
  readonly sql: string;
}

/**
 * SQL making a table of the migration's schema append-only: the database itself refuses
 * UPDATE, DELETE and TRUNCATE (audit trails, imported evidence).
 */
export function appendOnlySql(schema: string, table: string): string {
  return `
create function ${table}_append_only() returns trigger language plpgsql as $$
begin
  raise exception '${schema}.${table} is append-only';
end;
$$;
create trigger ${table}_no_update before update or delete on ${table}
  for each row execute function ${table}_append_only();
create trigger ${table}_no_truncate before truncate on ${table}
  for each statement execute function ${table}_append_only();
`;
}

export async function migrate(db: Db, schema: string, migrations: readonly Migration[]): Promise<string[]> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`bad schema name ${schema}`);
  const applied: string[] = [];
  await db.tx(async (q) => {
    await q.query('select pg_advisory_xact_lock(hashtext($1))', [`yiwang.migrate.${schema}`]);
    await q.query(`create schema if not exists ${schema}`);
    await q.query(`create table if not exists ${schema}.schema_migrations (id text primary key, applied_at timestamptz not null default now())`);
    const done = new Set((await q.query<{ id: string }>(`select id from ${schema}.schema_migrations`)).rows.map((r) => r.id));
    for (const m of [...migrations].sort((a, b) => a.id.localeCompare(b.id))) {
      if (done.has(m.id)) continue;
      await q.query(`set local search_path to ${schema}, public`);
      await q.query(m.sql);
      await q.query(`insert into ${schema}.schema_migrations (id) values ($1)`, [m.id]);
      applied.push(m.id);
    }
  });
  return applied;
}
