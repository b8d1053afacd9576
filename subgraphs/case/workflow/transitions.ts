/**
 * The workflow engine: moves a case by an action of its workflow definition (./definition.ts),
 * never by anything else. Every change goes through `applyAction`, which runs the action's
 * effects (./effects.ts), moves the legal clock (R-CA-8), sets the GB/T 39046 outcome code
 * (R-CA-10), writes the step log (R-CA-11) and the events, all in the caller's transaction.
 *
 * The shipped promised workflow (./shipped.ts), for orientation:
 *
 *   SUBMITTED ─accept─► ACCEPTED ─approve─► APPROVED ─complete (licence.issued)─► COMPLETED ─deliver
 *     │  ▲                │  ▲  └─approve (item without licence type) / deny (outcome 1)─► COMPLETED
 *     │  └supplement─┐    │  └─endProcedure─┐
 *     ├─requestSupplement─► SUPPLEMENT_REQUESTED (clock paused)   SUSPENDED (clock paused)
 *     └─reject (outcome 6)─► REJECTED           startProcedure ─────┘
 */
import { AppError } from '../../../kernel/errors.ts';
import type { Queryable } from '../../../kernel/db.ts';
import { appendStep, updateCase, type CasePatch, type CaseRecord, type CaseStatus } from '../repository.ts';
import { enqueueCaseEvents } from '../events.ts';
import { clockOnEnter } from '../deadlines/legal-clock.ts';
import { recordLapse } from '../deadlines/watcher.ts';
import type { WorkingCalendar } from '../../../kernel/calendar.ts';
import type { Logistics } from '../delivery/logistics.ts';
import { actionOf, type ActionDef, type WorkflowDef } from './definition.ts';
import { EFFECT_FNS, type ActionInput } from './effects.ts';

/** The named mutations of the first release; every other action goes through `caseAction`. */
export type StaffAction = 'accept' | 'reject' | 'approve';

export interface Handler { id: string | null; name: string | null; agency?: string | null }

export const SYSTEM_HANDLER: Handler = { id: 'system', name: '系统 / system' };

/** What the engine needs besides the database: the working-day calendar and the carrier. */
export interface WorkflowEnv { calendar: WorkingCalendar; logistics: Logistics }

export function canTake(def: WorkflowDef, action: string, status: CaseStatus): ActionDef | null {
  const a = actionOf(def, action);
  return a && a.from.includes(status) ? a : null;
}

export const transitionInvalid = (action: string, status: string) =>
  new AppError('CASE_TRANSITION_INVALID', `办件当前状态（${status}）不能执行该操作 / cannot ${action} a case in status ${status}`);

/** Target state and outcome of an action for this case. */
function target(a: ActionDef, c: CaseRecord): { status: CaseStatus; outcome: string | null } {
  if (!c.licenceType && a.toWithoutLicence) return { status: a.toWithoutLicence as CaseStatus, outcome: a.outcomeWithoutLicence ?? a.outcome ?? null };
  return { status: (a.to ?? c.status) as CaseStatus, outcome: a.outcome ?? null };
}

/**
 * Move `c` (as read, at `expectedVersion`) by `action`. The update is conditional on the version
 * (optimistic concurrency): when another writer changed the case meanwhile, nothing is written
 * and CONFLICT is thrown, so two concurrent approvals cannot both succeed.
 */
export async function applyAction(
  q: Queryable, env: WorkflowEnv, def: WorkflowDef, c: CaseRecord, action: string, handler: Handler, opinion: string | null,
  input: ActionInput, expectedVersion: number, now: Date, idempotencyKey: string | null = null,
): Promise<CaseRecord> {
  const a = canTake(def, action, c.status);
  if (!a) throw transitionInvalid(action, c.status);
  let patch: CasePatch = {};
  const details: Record<string, unknown> = {};
  let stay = false;
  for (const name of a.effects ?? []) {
    const r = await EFFECT_FNS[name]({
      q, case: c, workflow: def, input, handler: { id: handler.id, name: handler.name, agency: handler.agency ?? null }, opinion, now, ...env,
    });
    patch = { ...patch, ...r.patch };
    Object.assign(details, r.details);
    stay ||= r.stay === true;
  }
  // R-CA-9: which agency acted, when co-agencies may act too (a co-agency's refusal).
  if (a.byAnyAgency && handler.agency) details.agency = handler.agency;
  const next = stay ? { status: c.status, outcome: null } : target(a, c);
  patch = { ...patch, ...clockOnEnter(def, c, next.status, now, env.calendar) };
  await recordLapse(q, c, now); // R-CA-8: before the clock stops or moves
  const updated = await updateCase(q, c.id, expectedVersion, next.status, next.outcome, patch, now);
  if (!updated) throw new AppError('CONFLICT', '办件已被他人更新，请刷新后重试 / the case changed meanwhile; reload and retry');
  if (updated.deadlineAt && updated.deadlineAt !== c.deadlineAt) details.deadlineAt = updated.deadlineAt;
  if (idempotencyKey) details.idempotencyKey = idempotencyKey;
  await appendStep(q, c.id, {
    action, status: updated.status, handlerId: handler.id, handlerName: handler.name, opinion,
    details: Object.keys(details).length ? details : null, at: now,
  });
  if (updated.status !== c.status) await enqueueCaseEvents(q, updated, now, { action, opinion, details });
  return updated;
}
