/**
 * Where an applicant's notices go (R-CA-3): the mobile number, from the IdP (the one source of
 * real-name identity) through its internal account API with a service token, like
 * subgraphs/licence/directory.ts. Read in a consumer's `prepare`, never inside a transaction.
 * An interface, so tests substitute it.
 */
import { fetchIdpAccount, type IdpAccountsClient } from '../../../kernel/idp-accounts.ts';

export interface ApplicantContacts {
  /** The applicant's mobile, or null when the account has none. Throws when the IdP cannot answer now. */
  mobileOf(accountId: string): Promise<string | null>;
}

export function idpContacts(o: IdpAccountsClient): ApplicantContacts {
  return {
    async mobileOf(id) {
      const res = await fetchIdpAccount(o, 'case', id);
      if (res.status === 404) return null;
      if (!res.ok) throw new Error(`IdP account lookup failed with HTTP ${res.status}`);
      const body = await res.json() as { mobile?: unknown };
      return typeof body.mobile === 'string' && body.mobile ? body.mobile : null;
    },
  };
}
