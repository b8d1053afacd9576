/**
 * Who a licence is issued to. The `case.approved` event names the applicant by account id; the
 * holder's legal name and ID number (printed on the licence and signed into it) come from the
 * IdP, the one source of real-name identity, through its internal account API with a service
 * token (kernel/idp-accounts.ts). An interface, so tests (and other tiers) can substitute it.
 */
import { IDP_AUDIENCE, fetchIdpAccount, type IdpAccountsClient } from '../../kernel/idp-accounts.ts';

export interface HolderAccount {
  id: string;
  name: string;
  /** Resident ID number (GB 11643) or, for a company account, its credit code (GB 32100). */
  idNumber: string;
}

export interface AccountDirectory {
  /** Throws when the account cannot be read now; the event is then retried later. */
  get(id: string): Promise<HolderAccount>;
}

export { IDP_AUDIENCE };

export function idpAccountDirectory(o: IdpAccountsClient): AccountDirectory {
  return {
    async get(id) {
      // Unreachable or 5xx: SERVICE_UNAVAILABLE, the licence waits (kernel/events.ts notYet); others are real faults.
      const res = await fetchIdpAccount(o, 'licence', id);
      if (!res.ok) throw new Error(`IdP account lookup failed with HTTP ${res.status}`);
      const body = await res.json() as { id?: unknown; name?: unknown; idNumber?: unknown };
      if (typeof body.name !== 'string' || !body.name || typeof body.idNumber !== 'string' || !body.idNumber) {
        throw new Error('IdP account lookup returned no name or ID number');
      }
      return { id: typeof body.id === 'string' ? body.id : id, name: body.name, idNumber: body.idNumber };
    },
  };
}
