/**
 * UserInfo / ID-token claims by scope, beyond `profile` (name):
 *
 *   phone          phone_number, phone_number_verified (true only when the mobile factor was verified)
 *   yw_identity    yw_id_number_masked (R-ID-11: birth date masked), yw_loa (assurance level),
 *                  yw_kind (person | staff | company)
 *   yw_companies   yw_companies: the companies the person belongs to (legal representative,
 *                  or acting under a current delegation), [{ creditCode, name, relation }]
 *
 * The full ID number is never released to a relying party.
 */
import { maskIdNumber } from '../../kernel/ids.ts';
import type { AccountRecord } from '../accounts/store.ts';

export interface CompanyMembership { creditCode: string; name: string; relation: 'legal-representative' | 'delegate' }
export type MembershipsOf = (accountId: string) => Promise<CompanyMembership[]>;

export const IDENTITY_SCOPES = {
  yw_identity: ['yw_id_number_masked', 'yw_loa', 'yw_kind'],
  yw_companies: ['yw_companies'],
} as const;

export function phoneVerified(a: Pick<AccountRecord, 'factors'>): boolean {
  return a.factors.some((f) => f.type === 'mobile' && f.verified);
}

/** `scope`: the granted scopes; memberships (two queries) are looked up only when yw_companies is among them. */
export async function identityClaims(a: AccountRecord, loa: string, memberships: MembershipsOf, scope = ''): Promise<Record<string, unknown>> {
  const wantsCompanies = scope.split(' ').includes('yw_companies');
  return {
    ...(a.mobile ? { phone_number: a.mobile, phone_number_verified: phoneVerified(a) } : {}),
    ...(a.idNumber ? { yw_id_number_masked: maskIdNumber(a.idNumber) } : {}),
    yw_loa: loa,
    yw_kind: a.kind,
    ...(wantsCompanies ? { yw_companies: a.kind === 'person' ? await memberships(a.id) : [] } : {}),
  };
}
