/**
 * What appointments need to know about an applicant, from the IdP (the one source of real-name
 * identity): the ID number (one appointment per ID per item; kiosk check-in by ID card) and the
 * mobile number (reminders). Read through the IdP's internal account API with a service token,
 * like subgraphs/licence/directory.ts. An interface, so tests substitute it.
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../../kernel/clock.ts';
import { AppError } from '../../../kernel/errors.ts';
import { signServiceToken } from '../../../kernel/internal-auth.ts';

export interface ApplicantAccount {
  id: string;
  name: string;
  idNumber: string;
  /** Null when the IdP has none for the account (no reminder can be sent). */
  mobile: string | null;
}

export interface ApplicantDirectory {
  /** Throws SERVICE_UNAVAILABLE when the account cannot be read now. */
  get(id: string): Promise<ApplicantAccount>;
}

const IDP_AUDIENCE = 'urn:yiwang:idp';
const TIMEOUT_MS = 5000;

export function idpApplicantDirectory(o: { baseUrl: string; key: KeyObject; clock: Clock; fetch?: typeof fetch }): ApplicantDirectory {
  const doFetch = o.fetch ?? fetch;
  return {
    async get(id) {
      const token = await signServiceToken(o.key, 'case', IDP_AUDIENCE, o.clock.now());
      const url = `${o.baseUrl.replace(/\/$/, '')}/internal/accounts/${encodeURIComponent(id)}`;
      let res: Response;
      try {
        res = await doFetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(TIMEOUT_MS) });
      } catch {
        throw new AppError('SERVICE_UNAVAILABLE', '身份认证服务暂不可用 / the identity provider is unreachable');
      }
      if (!res.ok) throw new AppError('SERVICE_UNAVAILABLE', `身份认证服务暂不可用 / account lookup failed with HTTP ${res.status}`);
      const body = await res.json() as { id?: unknown; name?: unknown; idNumber?: unknown; mobile?: unknown };
      if (typeof body.idNumber !== 'string' || !body.idNumber) {
        throw new AppError('SERVICE_UNAVAILABLE', '账户缺少身份证号 / the account has no ID number');
      }
      return {
        id: typeof body.id === 'string' ? body.id : id,
        name: typeof body.name === 'string' ? body.name : '',
        idNumber: body.idNumber,
        mobile: typeof body.mobile === 'string' && body.mobile ? body.mobile : null,
      };
    },
  };
}
