/**
 * Who a licence is issued to. The `case.approved` event names the applicant by account id; the
 * holder's legal name and ID number (printed on the licence and signed into it) come from the
 * IdP, the one source of real-name identity, through its internal account API with a service
 * token (kernel/internal-auth.ts). An interface, so tests (and other tiers) can substitute it.
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../kernel/clock.ts';
import { signServiceToken } from '../../kernel/internal-auth.ts';

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

import { AppError } from '../../kernel/errors.ts';

export const IDP_AUDIENCE = 'urn:yiwang:idp';
const TIMEOUT_MS = 5000;

export function idpAccountDirectory(o: { baseUrl: string; key: KeyObject; clock: Clock; fetch?: typeof fetch }): AccountDirectory {
  const doFetch = o.fetch ?? fetch;
  return {
    async get(id) {
      const token = await signServiceToken(o.key, 'licence', IDP_AUDIENCE, o.clock.now());
      const url = `${o.baseUrl.replace(/\/$/, '')}/internal/accounts/${encodeURIComponent(id)}`;
      const res = await doFetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(TIMEOUT_MS) });
      // 5xx: the IdP is down or overloaded, the licence waits (kernel/events.ts notYet); others are real faults.
      if (res.status >= 500) throw new AppError('SERVICE_UNAVAILABLE', `IdP account lookup failed with HTTP ${res.status}`);
      if (!res.ok) throw new Error(`IdP account lookup failed with HTTP ${res.status}`);
      const body = await res.json() as { id?: unknown; name?: unknown; idNumber?: unknown };
      if (typeof body.name !== 'string' || !body.name || typeof body.idNumber !== 'string' || !body.idNumber) {
        throw new Error('IdP account lookup returned no name or ID number');
      }
      return { id: typeof body.id === 'string' ? body.id : id, name: body.name, idNumber: body.idNumber };
    },
  };
}
