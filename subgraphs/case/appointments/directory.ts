/**
 * What appointments need to know about an applicant, from the IdP (the one source of real-name
 * identity): the ID number (one appointment per ID per item; kiosk check-in by ID card) and the
 * mobile number (reminders). Read through the IdP's internal account API with a service token,
 * like subgraphs/licence/directory.ts. An interface, so tests substitute it.
 */
import { fetchIdpAccount, type IdpAccountsClient } from '../../../kernel/idp-accounts.ts';
import { AppError } from '../../../kernel/errors.ts';

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

export function idpApplicantDirectory(o: IdpAccountsClient): ApplicantDirectory {
  return {
    async get(id) {
      const res = await fetchIdpAccount(o, 'case', id);
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
