/**
 * Rating a case (好差评, R-EV-4). The rules, in the order they are checked:
 *  1. the caller is a logged-in person (UNAUTHENTICATED for anonymous, FORBIDDEN for staff);
 *  2. the channel is one of the seven rating channels 1..7 (BAD_INPUT);
 *  3. a dissatisfied or very dissatisfied rating carries a non-blank reason of at most 500
 *     characters (REASON_REQUIRED); a reason on the other levels is optional, at most 500 (BAD_INPUT);
 *  4. the case is completed (rateable) and the caller is its applicant (CASE_NOT_RATEABLE —
 *     the same answer for "not yours" and "not there", so nothing leaks about other cases);
 *  5. one rating per case (ALREADY_RATED), decided by the database's unique constraint.
 * A bad rating opens its follow-up (follow-up.ts) in the same transaction: no bad rating is ever
 * stored without the agency being asked to verify and answer it.
 */
import type { Clock } from '../../kernel/clock.ts';
import type { WorkingCalendar } from '../../kernel/calendar.ts';
import type { Db } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import { requirePerson, type Caller } from '../../kernel/internal-auth.ts';
import { openFollowUp } from './follow-up.ts';
import { levelInfo } from './levels.ts';
import { insertEvaluation, type EvaluationRecord } from './repository.ts';

export const REASON_MAX = 500;
export const CHANNELS = { min: 1, max: 7 } as const;

export interface RateInput {
  caseId: string;
  level: string;
  reason?: string | null | undefined;
  channel?: number | null | undefined;
}

/** Length in characters (code points), as the database's char_length counts. */
const chars = (s: string) => [...s].length;

export interface FollowUpRule { calendar: WorkingCalendar; workingDays: number }

export async function rateCase(db: Db, clock: Clock, caller: Caller, input: RateInput, followUp: FollowUpRule): Promise<EvaluationRecord> {
  const person = requirePerson(caller);
  const info = levelInfo(input.level);
  const channel = input.channel;
  if (typeof channel !== 'number' || !Number.isInteger(channel) || channel < CHANNELS.min || channel > CHANNELS.max) {
    throw new AppError('BAD_INPUT', '评价渠道须为 1 到 7 / channel must be 1..7', { channel: '1..7' });
  }
  const reason = input.reason?.trim() ? input.reason.trim() : null;
  if (info.needsReason && (reason === null || chars(reason) > REASON_MAX)) {
    throw new AppError('REASON_REQUIRED', `不满意评价须填写 ${REASON_MAX} 字以内的理由 / a dissatisfied rating needs a reason of at most ${REASON_MAX} characters`, { reason: `1..${REASON_MAX} characters` });
  }
  if (reason !== null && chars(reason) > REASON_MAX) {
    throw new AppError('BAD_INPUT', `理由不能超过 ${REASON_MAX} 字 / reason longer than ${REASON_MAX} characters`, { reason: `at most ${REASON_MAX} characters` });
  }
  const now = clock.now();
  return db.tx(async (q) => {
    const stored = await insertEvaluation(q, { caseId: input.caseId, applicantId: person.sub, level: info.level, reason, channel, now });
    if (!stored) throw new AppError('CASE_NOT_RATEABLE', '该办件尚未办结或不属于您 / this case is not completed or not yours');
    if (info.needsReason) await openFollowUp(q, followUp.calendar, followUp.workingDays, stored.id, stored.agencyCode, now);
    return stored;
  });
}
