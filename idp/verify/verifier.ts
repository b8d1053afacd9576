/**
 * The pluggable verifier (R-ID-1, R-ID-4): registration asks authoritative registries whether
 * what a person or company declares is on record. One interface, several back ends:
 *
 * - `fixtureVerifier` (idp/dev-registry.ts): development and tests, a configurable registry.
 * - `webhookVerifier` (idp/verify/webhook.ts): production, the operator's registry gateway
 *   (population registry, carriers, social security, banks, housing fund, traffic police,
 *   business registry), signed like the SMS webhook.
 *
 * Every answer is `match`, `mismatch` or `unknown`; only `match` counts as verified (an
 * unverified factor never counts towards the two R-ID-1 requires).
 */
export type VerifyResult = 'match' | 'mismatch' | 'unknown';

/** The five R-ID-1 factors besides name + resident ID number. */
export const FACTOR_KINDS = ['mobile', 'socialSecurityCard', 'bankCard', 'housingFund', 'drivingLicenceFile'] as const;
export type FactorKind = (typeof FACTOR_KINDS)[number];

/** Which registry answers for each factor (recorded with the factor, for the audit trail). */
export const FACTOR_SOURCE: Record<FactorKind, string> = {
  mobile: 'carrier',
  socialSecurityCard: 'social-security',
  bankCard: 'bank',
  housingFund: 'housing-fund',
  drivingLicenceFile: 'traffic-police',
};

export interface Verifier {
  readonly name: string;
  /** Population registry: is this name recorded for this resident ID number? */
  person(p: { name: string; idNumber: string }): Promise<VerifyResult>;
  /** Is this factor value recorded for this person (carrier three-element check, bank card, …)? */
  factor(p: { name: string; idNumber: string }, kind: FactorKind, value: string): Promise<VerifyResult>;
  /** Business registry: is this company recorded with this name and this legal representative? */
  company(c: { creditCode: string; name: string; legalRepName: string; legalRepIdNumber: string }): Promise<VerifyResult>;
}
