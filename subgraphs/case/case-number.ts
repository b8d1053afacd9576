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
 *
 * Numbers are reserved in blocks of BLOCK per process, in a statement of their own before the
 * submit's transaction: the counter row is then locked for one short statement per BLOCK cases
 * instead of through every submit's commit, which serialised all submits of a region (as
 * `npm run bench cases` showed). Numbers stay unique; they may skip (a block left unused when a process stops) and,
 * with several replicas, are not in submission order across processes.
 */
import type { Queryable } from '../../kernel/db.ts';
import { reserveCaseSequence } from './repository.ts';

export const BLOCK = 20;

/** Reserved, unused ranges per database handle and prefix (a handle per process and database). */
const reserved = new WeakMap<Queryable, Map<string, Array<{ next: number; end: number }>>>();

const CST_OFFSET_MS = 8 * 3600_000;

/** Characters 3-8 of a credit code: the registering authority's administrative division. */
export function regionCodeOf(agencyCode: string): string {
  return agencyCode.slice(2, 8);
}

/** YYYYMMDD in China Standard Time. */
export function chinaDate(now: Date): string {
  return new Date(now.getTime() + CST_OFFSET_MS).toISOString().slice(0, 10).replaceAll('-', '');
}

/** Call outside any transaction (`db` itself): a reservation commits on its own. */
export async function allocateCaseNumber(db: Queryable, agencyCode: string, now: Date): Promise<string> {
  const prefix = `${regionCodeOf(agencyCode)}${chinaDate(now)}`;
  let byPrefix = reserved.get(db);
  if (!byPrefix) reserved.set(db, byPrefix = new Map());
  let ranges = byPrefix.get(prefix);
  if (!ranges) byPrefix.set(prefix, ranges = []);
  for (;;) {
    const r = ranges[0];
    if (r && r.next <= r.end) return `${prefix}${String(r.next++).padStart(6, '0')}`;
    if (r) { ranges.shift(); continue; }
    const last = await reserveCaseSequence(db, prefix, BLOCK);
    ranges.push({ next: last - BLOCK + 1, end: last });
  }
}
