/**
 * Unified case number (办件编号, R-CA-1, R-CA-6): what the applicant is shown on submit, what
 * tracking by number and the QR code on the acceptance notice look up.
 *
 *   <region code (6)> <YYYYMMDD> <daily sequence (6, zero-padded)>     e.g. 330100 20260315 000042
 *
 * The region is the administrative division code embedded in the implementing agency's unified
 * social credit code (GB 32100 characters 3-8), so numbers are unique across agencies of a
 * platform without coordination beyond one counter per region and day. The date is the China
 * Standard Time date (UTC+8, no daylight saving), the day the applicant sees. The sequence grows
 * past 6 digits rather than wrapping; the column is an..50 (standards.md: widths vary).
 */
import type { Queryable } from '../../kernel/db.ts';
import { nextCaseSequence } from './repository.ts';

const CST_OFFSET_MS = 8 * 3600_000;

/** Characters 3-8 of a credit code: the registering authority's administrative division. */
export function regionCodeOf(agencyCode: string): string {
  return agencyCode.slice(2, 8);
}

/** YYYYMMDD in China Standard Time. */
export function chinaDate(now: Date): string {
  return new Date(now.getTime() + CST_OFFSET_MS).toISOString().slice(0, 10).replaceAll('-', '');
}

export async function allocateCaseNumber(q: Queryable, agencyCode: string, now: Date): Promise<string> {
  const prefix = `${regionCodeOf(agencyCode)}${chinaDate(now)}`;
  const n = await nextCaseSequence(q, prefix);
  return `${prefix}${String(n).padStart(6, '0')}`;
}
