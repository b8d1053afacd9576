/**
 * The case state machine: which action moves a case from which status to which, who may take
 * it, and the GB/T 39046 outcome code it sets (R-CA-10: 0 approved with certificate … 6 not
 * accepted). Every status change goes through `applyTransition`, which also writes the step log
 * (R-CA-11) and the events, all in the caller's transaction.
 *
 *   SUBMITTED ──accept──► ACCEPTED ──approve──► APPROVED ──complete (licence.issued)──► COMPLETED
 *       │                               └──approve (item without licence type)──────► COMPLETED
 *       └──reject──► REJECTED (final, outcome 6)
 */
import { AppError } from '../../../kernel/errors.ts';
import type { StaffRole } from '../../../kernel/internal-auth.ts';
import type { Queryable } from '../../../kernel/db.ts';
import { appendStep, updateStatus, type CaseRecord, type CaseStatus } from '../repository.ts';
import { enqueueCaseEvents } from '../events.ts';

export type StaffAction = 'accept' | 'reject' | 'approve';
export type Action = 'submit' | StaffAction | 'complete';

export interface Transition {
  /** Who takes the action: a staff role (R-CA-7), the applicant, or the system. */
  readonly by: StaffRole | 'applicant' | 'system';
  readonly from: readonly CaseStatus[];
  readonly to: (c: CaseRecord) => { status: CaseStatus; outcomeCode: string | null };
}

export const TRANSITIONS: Readonly<Record<Action, Transition>> = {
  submit: { by: 'applicant', from: [], to: () => ({ status: 'SUBMITTED', outcomeCode: null }) },
  accept: { by: 'acceptor', from: ['SUBMITTED'], to: () => ({ status: 'ACCEPTED', outcomeCode: null }) },
  reject: { by: 'acceptor', from: ['SUBMITTED'], to: () => ({ status: 'REJECTED', outcomeCode: '6' }) },
  // With a licence type the case waits for the licence (R-LI-2); without one, the decision is the result.
  approve: {
    by: 'decider', from: ['ACCEPTED'],
    to: (c) => (c.licenceType ? { status: 'APPROVED', outcomeCode: null } : { status: 'COMPLETED', outcomeCode: '0' }),
  },
  complete: { by: 'system', from: ['APPROVED'], to: () => ({ status: 'COMPLETED', outcomeCode: '0' }) },
};

export interface Handler { id: string | null; name: string | null }

export const SYSTEM_HANDLER: Handler = { id: 'system', name: '系统 / system' };

export function canTransition(action: Action, status: CaseStatus): boolean {
  return TRANSITIONS[action].from.includes(status);
}

/**
 * Move `c` (as read, at `expectedVersion`) by `action`. The update is conditional on the version
 * (optimistic concurrency): when another writer changed the case meanwhile, nothing is written
 * and CONFLICT is thrown, so two concurrent approvals cannot both succeed.
 */
export async function applyTransition(
  q: Queryable, c: CaseRecord, action: Exclude<Action, 'submit'>, handler: Handler, opinion: string | null, expectedVersion: number, now: Date,
): Promise<CaseRecord> {
  if (!canTransition(action, c.status)) {
    throw new AppError('CASE_TRANSITION_INVALID', `办件当前状态（${c.status}）不能执行该操作 / cannot ${action} a case in status ${c.status}`);
  }
  const next = TRANSITIONS[action].to(c);
  const updated = await updateStatus(q, c.id, expectedVersion, next.status, next.outcomeCode, now);
  if (!updated) throw new AppError('CONFLICT', '办件已被他人更新，请刷新后重试 / the case changed meanwhile; reload and retry');
  await appendStep(q, c.id, { action, status: updated.status, handlerId: handler.id, handlerName: handler.name, opinion, at: now });
  await enqueueCaseEvents(q, updated, now);
  return updated;
}
