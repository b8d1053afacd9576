/**
 * Remembered consent: what a person approved for a partner client, per client
 * and scope, kept in `idp.consents` beyond the login session. When the same person comes back
 * to the same partner in a new session, the grant is rebuilt from it, so oidc-provider asks
 * again only for scopes never approved. Withdrawing consent removes the record (the person is
 * asked again next time). The first-party portal keeps session-scoped consent only.
 */
import type { Queryable } from '../../kernel/db.ts';

export interface RememberedConsent { scopes: string[]; resourceScopes: Record<string, string>; grantedAt: string }

export interface ConsentStore {
  find(accountId: string, clientId: string): Promise<RememberedConsent | undefined>;
  /** Record (the union with what was remembered before). */
  remember(accountId: string, clientId: string, scopes: string[], resourceScopes: Record<string, string>, at: Date): Promise<void>;
  list(accountId: string): Promise<Array<RememberedConsent & { clientId: string }>>;
  withdraw(accountId: string, clientId: string): Promise<boolean>;
}

interface Row { client_id: string; scopes: string[]; resource_scopes: Record<string, string> | string; granted_at: Date | string }

const view = (r: Row) => ({
  scopes: r.scopes,
  resourceScopes: typeof r.resource_scopes === 'string' ? JSON.parse(r.resource_scopes) as Record<string, string> : r.resource_scopes,
  grantedAt: new Date(r.granted_at).toISOString(),
});

export function createConsentStore(db: Queryable): ConsentStore {
  return {
    async find(accountId, clientId) {
      const { rows } = await db.query<Row>('select client_id, scopes, resource_scopes, granted_at from idp.consents where account_id = $1 and client_id = $2', [accountId, clientId]);
      return rows[0] ? view(rows[0]) : undefined;
    },
    async remember(accountId, clientId, scopes, resourceScopes, at) {
      await db.query(
        `insert into idp.consents (account_id, client_id, scopes, resource_scopes, granted_at) values ($1, $2, $3, $4, $5)
         on conflict (account_id, client_id) do update set
           scopes = (select array(select distinct unnest(idp.consents.scopes || excluded.scopes) order by 1)),
           resource_scopes = idp.consents.resource_scopes || excluded.resource_scopes,
           granted_at = excluded.granted_at`,
        [accountId, clientId, [...new Set(scopes)].sort(), JSON.stringify(resourceScopes), at.toISOString()],
      );
    },
    async list(accountId) {
      const { rows } = await db.query<Row>('select client_id, scopes, resource_scopes, granted_at from idp.consents where account_id = $1 order by client_id', [accountId]);
      return rows.map((r) => ({ clientId: r.client_id, ...view(r) }));
    },
    async withdraw(accountId, clientId) {
      const { rowCount } = await db.query('delete from idp.consents where account_id = $1 and client_id = $2', [accountId, clientId]);
      return rowCount > 0;
    },
  };
}
