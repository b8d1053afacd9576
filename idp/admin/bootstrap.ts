/**
 * The first administrator of a fresh installation (there is nobody yet to open one through the
 * admin API). Run once, on a machine with database access:
 *
 *   node idp/admin/bootstrap.ts <username> <name> <agency credit code>
 *
 * It opens a staff account with the `admin` role only (a department head is a second person,
 * opened by this administrator through the API), prints
 * the random initial password once (changed at first login), and writes the act to the audit log
 * with actor `bootstrap`. Refused (CONFLICT) when an enabled administrator already exists: after
 * that, administrators are opened through the admin API, where every act is attributed.
 */
import { fileURLToPath } from 'node:url';
import type { Db } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import type { AccountAdmin } from './accounts.ts';

export async function bootstrapAdmin(db: Db, accountAdmin: AccountAdmin, input: { username: string; name: string; agencyCode: string }) {
  const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from idp.accounts where kind = 'staff' and 'admin' = any(roles) and not disabled`);
  if (Number(rows[0]?.n ?? 0) > 0) throw new AppError('CONFLICT', '已有管理员，请通过管理接口开通 / an administrator exists: open accounts through the admin API');
  return accountAdmin.openStaff({ id: 'bootstrap', name: 'bootstrap', roles: ['admin'] }, { ...input, roles: ['admin'] });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [username, name, agencyCode] = process.argv.slice(2);
  if (!username || !name || !agencyCode) {
    console.error('usage: node idp/admin/bootstrap.ts <username> <name> <agency credit code>');
    process.exit(2);
  }
  const { openDeps } = await import('../../kernel/service.ts');
  const { migrate } = await import('../../kernel/migrate.ts');
  const { IDP_MIGRATIONS, IDP_SCHEMA } = await import('../migrations.ts');
  const { auditKey, createAuditLog } = await import('../audit/log.ts');
  const { createNotifier } = await import('../../kernel/notify.ts');
  const { createAccountAdmin } = await import('./accounts.ts');
  const deps = await openDeps('idp-bootstrap', undefined, { db: true, cache: false });
  try {
    await migrate(deps.db, IDP_SCHEMA, IDP_MIGRATIONS);
    const accountAdmin = createAccountAdmin({
      db: deps.db, accounts: undefined as never, audit: createAuditLog(deps.db, { key: auditKey(deps.secrets.internalSecret) }), notifier: createNotifier(deps.config, deps.log, deps.clock), clock: deps.clock, log: deps.log,
    });
    const r = await bootstrapAdmin(deps.db, accountAdmin, { username, name, agencyCode });
    console.log(`administrator ${r.username} opened (id ${r.id}); initial password, shown once: ${r.initialPassword}`);
  } catch (e) {
    console.error(e instanceof AppError ? `${e.code}: ${e.message}` : e);
    process.exitCode = 1;
  } finally {
    await deps.db.close();
  }
}
