/**
 * submitCase (R-CA-1): a logged-in person applies for an item known to the local replica; the
 * case gets a unified case number and its first step ('submit'). An idempotency key makes a
 * retried submit (lost response, double click) return the case the first attempt created:
 * (applicant, key) is unique, and a concurrent duplicate that loses the race on that index is
 * answered with the winner's case.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../kernel/db.ts';
import { pgCode } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import { requirePerson, type Caller } from '../../kernel/internal-auth.ts';
import { allocateCaseNumber } from './case-number.ts';
import { MAX_VISITS, appendStep, findByIdempotencyKey, findItem, insertCase, type ApplyMode, type CaseRecord } from './repository.ts';
import { workflowForItem } from './workflow/registry.ts';
import { initialClock } from './deadlines/legal-clock.ts';
import type { WorkingCalendar } from '../../kernel/calendar.ts';

export interface SubmitCaseInput {
  itemId: string;
  form?: string | null;
  idempotencyKey?: string | null;
  /** R-CA-2: ONLINE (0 visits, the default), PICKUP_VERIFY (1), PRE_REVIEW (2). */
  mode?: ApplyMode | null;
}

const MAX_FORM_BYTES = 256 * 1024;
const MAX_KEY_LENGTH = 200;

/** The form is a JSON object (field → value), or absent. */
export function parseForm(form: string | null | undefined): Record<string, unknown> | null {
  if (form === null || form === undefined) return null;
  if (Buffer.byteLength(form, 'utf8') > MAX_FORM_BYTES) {
    throw new AppError('BAD_INPUT', '申请表过大 / the form is too large', { form: `at most ${MAX_FORM_BYTES} bytes` });
  }
  let value: unknown;
  try {
    value = JSON.parse(form);
  } catch {
    throw new AppError('BAD_INPUT', '申请表不是有效的 JSON / the form is not valid JSON', { form: 'JSON object expected' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppError('BAD_INPUT', '申请表必须是 JSON 对象 / the form must be a JSON object', { form: 'JSON object expected' });
  }
  return value as Record<string, unknown>;
}

function parseKey(key: string | null | undefined): string | null {
  if (key === null || key === undefined) return null;
  const k = key.trim();
  if (k === '' || k.length > MAX_KEY_LENGTH) {
    throw new AppError('BAD_INPUT', '幂等键无效 / invalid idempotency key', { idempotencyKey: `1 to ${MAX_KEY_LENGTH} characters` });
  }
  return k;
}

/** A replayed key must mean the same application; reusing it for another item is a client bug. */
function sameApplication(existing: CaseRecord, itemId: string): CaseRecord {
  if (existing.itemId !== itemId) {
    throw new AppError('BAD_INPUT', '该幂等键已用于其他事项 / this idempotency key was used for another item', { idempotencyKey: 'reused' });
  }
  return existing;
}

function parseMode(mode: string | null | undefined): ApplyMode {
  if (mode === null || mode === undefined) return 'ONLINE';
  if (!(mode in MAX_VISITS)) throw new AppError('BAD_INPUT', '申请方式无效 / invalid mode', { mode: Object.keys(MAX_VISITS).join(', ') });
  return mode as ApplyMode;
}

export async function submitCase(db: Db, calendar: WorkingCalendar, caller: Caller, input: SubmitCaseInput, now: Date): Promise<CaseRecord> {
  const person = requirePerson(caller);
  const mode = parseMode(input.mode);
  const form = parseForm(input.form);
  const key = parseKey(input.idempotencyKey);
  if (key) {
    const existing = await findByIdempotencyKey(db, person.sub, key);
    if (existing) return sameApplication(existing, input.itemId);
  }
  const found = await findItem(db, input.itemId);
  if (!found) throw new AppError('ITEM_NOT_FOUND', '事项不存在 / no such service item');
  // Before the transaction: a reservation commits on its own (./case-number.ts).
  const caseNumber = await allocateCaseNumber(db, found.agencyCode, now);
  try {
    return await db.tx(async (q) => {
      const item = found;
      const { def, coAgencies } = await workflowForItem(q, item);
      const clock = initialClock(def, item, now, calendar);
      const c = await insertCase(q, {
        id: randomUUID(), caseNumber, item, applicantId: person.sub, applicantName: person.name, form, idempotencyKey: key, now,
        workflowId: def.id, coAgencies, mode, ...clock,
      });
      await appendStep(q, c.id, { action: 'submit', status: 'SUBMITTED', handlerId: person.sub, handlerName: person.name, opinion: null, at: now });
      return c;
    });
  } catch (e) {
    if (key && pgCode(e) === '23505') {
      const existing = await findByIdempotencyKey(db, person.sub, key);
      if (existing) return sameApplication(existing, input.itemId);
    }
    throw e;
  }
}
