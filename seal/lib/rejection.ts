/**
 * How the verification steps say "this licence is not valid": they throw a Rejection with a
 * LICENCE_* code from kernel/errors.ts, and verifyLicence turns it into { valid: false }. A
 * separate class (not AppError) so a genuine fault — a bad trust-bundle configuration, a
 * failing revocation lookup — can never be mistaken for a verdict on the licence.
 */
import type { ErrorCode } from '../../kernel/errors.ts';

export type LicenceReason = Extract<ErrorCode, `LICENCE_${string}`>;

export class Rejection extends Error {
  override name = 'Rejection';
  readonly reason: LicenceReason;

  constructor(reason: LicenceReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

export function reject(reason: LicenceReason, message: string): never {
  throw new Rejection(reason, message);
}
