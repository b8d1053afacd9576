/**
 * A licence instead of an upload (R-LI-2): the licence service checks that the licence belongs
 * to the applicant, is of the accepted type, and is valid now (docs/licences.md, `POST
 * /internal/licences/check`, service token audience urn:yiwang:licence). An interface, so tests
 * substitute it. A network failure is SERVICE_UNAVAILABLE, never a check passed.
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../../kernel/clock.ts';
import { AppError } from '../../../kernel/errors.ts';
import { signServiceToken } from '../../../kernel/internal-auth.ts';

export interface LicenceCheckRequest { licenceId?: string; identifier?: string; holderId: string; typeCode?: string }
export interface LicenceCheckAnswer {
  ok: boolean;
  reason: string | null;
  message: string | null;
  licence: { id: string; identifier: string; typeCode: string; typeName: string } | null;
}

export interface LicenceChecker { check(r: LicenceCheckRequest): Promise<LicenceCheckAnswer> }

const LICENCE_AUDIENCE = 'urn:yiwang:licence';

export function httpLicenceChecker(o: { baseUrl: string; key: KeyObject; clock: Clock; fetch?: typeof fetch }): LicenceChecker {
  const doFetch = o.fetch ?? fetch;
  return {
    async check(r) {
      const token = await signServiceToken(o.key, 'case', LICENCE_AUDIENCE, o.clock.now());
      let res: Response;
      try {
        res = await doFetch(`${o.baseUrl.replace(/\/$/, '')}/internal/licences/check`, {
          method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(r), signal: AbortSignal.timeout(5000),
        });
      } catch {
        throw new AppError('SERVICE_UNAVAILABLE', '电子证照服务暂不可用 / the licence service is unreachable');
      }
      if (res.status === 400) throw new AppError('BAD_INPUT', '证照引用无效 / invalid licence reference', { licence: 'licenceId or identifier' });
      if (!res.ok) throw new AppError('SERVICE_UNAVAILABLE', `电子证照服务暂不可用 / licence check failed with HTTP ${res.status}`);
      return await res.json() as LicenceCheckAnswer;
    },
  };
}

/** The licence service's base URL from LICENCE_URL (its /graphql address). */
export const licenceBase = (licenceUrl: string) => licenceUrl.replace(/\/graphql\/?$/, '');
