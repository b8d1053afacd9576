/**
 * The legal clock of a case (R-CA-8), as a pure function of a transition: entering a state with a
 * deadline starts a new clock; entering a `paused` state stops the running one; coming back to
 * the paused clock's state resumes it, moving the deadline by the working days spent paused;
 * entering a state without a deadline (or a final one) stops it. Extensions add working days.
 */
import type { CasePatch, CaseRecord } from '../repository.ts';
import type { DeadlineSpec, StateDef, WorkflowDef } from '../workflow/definition.ts';
import { stateOf } from '../workflow/definition.ts';
import type { WorkingCalendar } from '../../../kernel/calendar.ts';

/** Working days a state allows for this case; null when the item sets no limit. */
export function daysFor(spec: DeadlineSpec, c: Pick<CaseRecord, 'legalTimeLimit' | 'promisedTimeLimit'>): number | null {
  if (typeof spec === 'number') return spec;
  if (spec === 'legal') return c.legalTimeLimit ?? c.promisedTimeLimit;
  return c.promisedTimeLimit ?? c.legalTimeLimit;
}

/** The clock columns for a case entering `to` (same state: nothing changes). */
export function clockOnEnter(def: WorkflowDef, c: CaseRecord, to: string, now: Date, cal: WorkingCalendar): CasePatch {
  if (to === c.status) return {};
  const state: StateDef | undefined = stateOf(def, to);
  if (!state || state.final) return { pausedAt: null, finishedAt: now };
  if (state.clock === 'paused' || state.clock === 'stopped') return c.pausedAt ? {} : { pausedAt: now };
  const from = stateOf(def, c.status);
  if (c.pausedAt && c.clockState === to && c.deadlineAt && from?.clock !== 'stopped') {
    const lost = cal.workingDaysBetween(new Date(c.pausedAt), now);
    // The deadline moved: a warning about the old one says nothing about it; warn again (R-CA-8).
    return { pausedAt: null, deadlineAt: cal.addWorkingDays(new Date(c.deadlineAt), lost), warnedAt: null };
  }
  const days = state.deadline === undefined ? null : daysFor(state.deadline, c);
  if (days === null) return { clockState: null, deadlineAt: null, pausedAt: null, warnedAt: null };
  return { clockState: to, deadlineAt: cal.addWorkingDays(now, days), pausedAt: null, warnedAt: null };
}

/** The initial state's clock at submission. */
export function initialClock(def: WorkflowDef, limits: Pick<CaseRecord, 'legalTimeLimit' | 'promisedTimeLimit'>, now: Date, cal: WorkingCalendar): { clockState: string | null; deadlineAt: Date | null } {
  const state = stateOf(def, def.initial);
  const days = state?.deadline === undefined ? null : daysFor(state.deadline, limits);
  return days === null ? { clockState: null, deadlineAt: null } : { clockState: def.initial, deadlineAt: cal.addWorkingDays(now, days) };
}
