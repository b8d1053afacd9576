/**
 * Where an applicant's notices go (R-CA-3): the mobile number, from the IdP (the one source of
 * real-name identity) through its internal account API with a service token, like
 * subgraphs/licence/directory.ts. Read in a consumer's `prepare`, never inside a transaction.
 * An interface, so tests substitute it.
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../../kernel/clock.ts';
import { signServiceToken } from '../../../kernel/internal-auth.ts';
import { AppError } from '../../../kernel/errors.ts';

export interface ApplicantContacts {
  /** The applicant's mobile, or null when the account has none. Throws when the IdP cannot answer now. */
  mobileOf(accountId: string): Promise<string | null>;
}

const IDP_AUDIENCE = 'urn:yiwang:idp';
const TIMEOUT_MS = 5000;

export function idpContacts(o: { baseUrl: string; key: KeyObject; clock: Clock; fetch?: typeof fetch }): ApplicantContacts {
  const doFetch = o.fetch ?? fetch;
  return {
    async mobileOf(id) {
      const token = await signServiceToken(o.key, 'case', IDP_AUDIENCE, o.clock.now());
      const url = `${o.baseUrl.replace(/\/$/, '')}/internal/accounts/${encodeURIComponent(id)}`;
      const res = await doFetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(TIMEOUT_MS) });
      if (res.status === 404) return null;
      if (res.status >= 500) throw new AppError('SERVICE_UNAVAILABLE', `IdP account lookup failed with HTTP ${res.status}`);
      if (!res.ok) throw new Error(`IdP account lookup failed with HTTP ${res.status}`);
      const body = await res.json() as { mobile?: unknown };
      return typeof body.mobile === 'string' && body.mobile ? body.mobile : null;
    },
  };
}
