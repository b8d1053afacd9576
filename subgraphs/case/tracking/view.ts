/**
 * Tracking (R-CA-6): a case is found by its unified case number. The public view (anyone holding
 * the acceptance receipt: its QR code, a kiosk, the hotline reading the number and code) shows
 * only the status, the item and agency, the masked applicant name and the dates of the steps —
 * no opinions, no handlers, no form data. Case numbers are sequential, so the public view also
 * needs the tracking code printed on the receipt (an HMAC of the number under the platform's
 * internal key): numbers alone cannot be enumerated. The applicant and the agency's staff need
 * no code.
 */
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Queryable } from '../../../kernel/db.ts';
import { CASE_SCHEMA as S } from '../migrations.ts';
import { findCase, listSteps, type CaseRecord } from '../repository.ts';
import { stateOf } from '../workflow/definition.ts';
import { workflowById } from '../workflow/registry.ts';

export const TRACKING_CODE_LENGTH = 10;
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'; // no 0/O, 1/I/L: read out on the phone

export function trackingCode(key: KeyObject, caseNumber: string): string {
  const mac = createHmac('sha256', key).update(`yiwang.track.${caseNumber}`).digest();
  return Array.from(mac.subarray(0, TRACKING_CODE_LENGTH), (b) => ALPHABET[b % ALPHABET.length]).join('');
}

export function codeMatches(key: KeyObject, caseNumber: string, code: string): boolean {
  const want = Buffer.from(trackingCode(key, caseNumber));
  const got = Buffer.from(code.trim().toUpperCase());
  return got.length === want.length && timingSafeEqual(got, want);
}

/** 张三 → 张*, 欧阳娜娜 → 欧**娜: the first character (and the last of long names) only. */
export function maskName(name: string): string {
  const chars = [...name];
  if (chars.length <= 1) return '*';
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars.at(-1)}`;
}

export interface PublicTracking {
  caseNumber: string; itemName: string; agencyName: string; applicantMasked: string;
  status: string; statusLabel: string; submittedAt: string; deadlineAt: string | null; finished: boolean;
  steps: Array<{ action: string; status: string; at: string }>;
}

export async function findByNumber(q: Queryable, caseNumber: string): Promise<CaseRecord | null> {
  if (!/^[0-9A-Za-z]{1,50}$/.test(caseNumber)) return null;
  const { rows } = await q.query<{ id: string }>(`select id from ${S}.cases where case_number = $1`, [caseNumber]);
  return rows[0] ? findCase(q, rows[0].id) : null;
}

export async function publicView(q: Queryable, c: CaseRecord): Promise<PublicTracking> {
  const def = await workflowById(q, c.workflowId);
  const steps = await listSteps(q, c.id);
  return {
    caseNumber: c.caseNumber, itemName: c.itemName, agencyName: c.agencyName, applicantMasked: maskName(c.applicantName),
    status: c.status, statusLabel: stateOf(def, c.status)?.label ?? c.status, submittedAt: c.submittedAt,
    deadlineAt: c.finishedAt ? null : c.deadlineAt, finished: c.finishedAt !== null,
    steps: steps.map((s) => ({ action: s.action, status: s.status, at: s.at })),
  };
}

/** The address the receipt's QR code holds. */
export function trackingUrl(base: string, key: KeyObject, caseNumber: string): string {
  return `${base.replace(/\/$/, '')}/track/${encodeURIComponent(caseNumber)}?code=${trackingCode(key, caseNumber)}`;
}
