/**
 * Check characters of the national identifiers (see shared/docs/standards.md for vectors):
 * - resident ID number, GB 11643 (ISO 7064 MOD 11-2);
 * - unified social credit code, GB 32100 (MOD 31 over its own alphabet);
 * - electronic licence identifier, GB/T 36904 as used in practice (ISO/IEC 7064 MOD 37,36).
 */

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

export function idNumberCheckDigit(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i]!;
  return ID_CHECK[sum % 11]!;
}

/** True when `id` is 17 digits + the right check character and digits 7-14 are a real date. */
export function isValidIdNumber(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const y = Number(id.slice(6, 10)), m = Number(id.slice(10, 12)), d = Number(id.slice(12, 14));
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1800 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return false;
  return idNumberCheckDigit(id.slice(0, 17)) === id[17];
}

/** Normalise user input: trim and upper-case the trailing x. */
export function normaliseIdNumber(id: string): string {
  return id.trim().toUpperCase();
}

/** R-ID-11: show an ID number with the birth date (digits 7-14) masked. */
export function maskIdNumber(id: string): string {
  if (id.length !== 18) return '*'.repeat(id.length);
  return `${id.slice(0, 6)}********${id.slice(14)}`;
}

const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

export function creditCodeCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_ALPHABET.indexOf(first17[i]!);
    if (v < 0) throw new RangeError(`invalid credit-code character at ${i}`);
    sum += v * USCC_WEIGHTS[i]!;
  }
  return USCC_ALPHABET[(31 - (sum % 31)) % 31]!;
}

export function isValidCreditCode(code: string): boolean {
  if (!/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(code)) return false;
  return creditCodeCheckChar(code.slice(0, 17)) === code[17];
}

const MOD37_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** ISO/IEC 7064 hybrid MOD 37,36 check character over `0-9A-Z`. */
export function mod3736CheckChar(data: string): string {
  let p = 36;
  for (const ch of data.toUpperCase()) {
    const v = MOD37_ALPHABET.indexOf(ch);
    if (v < 0) throw new RangeError(`invalid character ${JSON.stringify(ch)} for MOD 37,36`);
    let s = (p + v) % 36;
    if (s === 0) s = 36;
    p = (2 * s) % 37;
  }
  return MOD37_ALPHABET[(37 - p) % 36]!;
}

export const LICENCE_ID_PREFIX = '1.2.156.3005.2';

export interface LicenceIdParts {
  typeCode: string;
  agencyCode: string;
  serial: string;
  version: string;
}

/** Build a GB/T 36904 licence identifier with its check character. */
export function formatLicenceId(p: LicenceIdParts): string {
  if (!/^\d{3}$/.test(p.version)) throw new RangeError('version must be 3 digits');
  const check = mod3736CheckChar(p.typeCode + p.agencyCode + p.serial + p.version);
  return `${LICENCE_ID_PREFIX}.${p.typeCode}.${p.agencyCode}.${p.serial}.${p.version}.${check}`;
}

/** Parse and check a licence identifier; null when malformed or the check character is wrong. */
export function parseLicenceId(id: string): LicenceIdParts | null {
  if (!id.startsWith(`${LICENCE_ID_PREFIX}.`)) return null;
  const parts = id.slice(LICENCE_ID_PREFIX.length + 1).split('.');
  if (parts.length !== 5) return null;
  const [typeCode, agencyCode, serial, version, check] = parts as [string, string, string, string, string];
  if (!/^[0-9A-Z]+$/.test(typeCode + agencyCode + serial) || !/^\d{3}$/.test(version) || check.length !== 1) return null;
  if (mod3736CheckChar(typeCode + agencyCode + serial + version) !== check) return null;
  return { typeCode, agencyCode, serial, version };
}

/** Mainland mobile numbers: 11 digits starting with 1. */
export function isValidMobile(m: string): boolean {
  return /^1[3-9]\d{9}$/.test(m);
}

export function maskMobile(m: string): string {
  return m.length === 11 ? `${m.slice(0, 3)}****${m.slice(7)}` : '***';
}

/** A UUID in its canonical text form (any version, either case). */
export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}
