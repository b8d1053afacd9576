/**
 * Services read real-name accounts from the IdP (the one source of identity) through its
 * internal account API, `GET <IDP_INTERNAL_URL>/internal/accounts/<id>`, with a service token
 * for audience `urn:yiwang:idp` (kernel/internal-auth.ts). One request, shared by the licence
 * holder directory, the applicant's notice contacts and the appointments directory; each reads
 * the fields it needs and decides what a 404 means for it.
 *
 * An IdP that cannot be reached or answers 5xx is SERVICE_UNAVAILABLE (a "not yet" failure for
 * event consumers, kernel/events.ts); any other answer is returned as is.
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from './clock.ts';
import { AppError } from './errors.ts';
import { signServiceToken } from './internal-auth.ts';

export const IDP_AUDIENCE = 'urn:yiwang:idp';
const TIMEOUT_MS = 5000;

export interface IdpAccountsClient { baseUrl: string; key: KeyObject; clock: Clock; fetch?: typeof fetch }

export async function fetchIdpAccount(o: IdpAccountsClient, service: string, id: string): Promise<Response> {
  const token = await signServiceToken(o.key, service, IDP_AUDIENCE, o.clock.now());
  const url = `${o.baseUrl.replace(/\/$/, '')}/internal/accounts/${encodeURIComponent(id)}`;
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch {
    throw new AppError('SERVICE_UNAVAILABLE', '身份认证服务暂不可用 / the identity provider is unreachable');
  }
  if (res.status >= 500) throw new AppError('SERVICE_UNAVAILABLE', `身份认证服务暂不可用 / account lookup failed with HTTP ${res.status}`);
  return res;
}
