/**
 * Staff actions on a case: the checks that guard each action, in order, in one table (after
 * oidc-provider's lib/actions/authorization/index.js), then the transition itself.
 *
 * Rules: R-CA-7 (roles, in the item's agency), R-CA-10 (outcome codes), R-CA-11 (step log),
 * optimistic concurrency on `version`.
 */
import type { Db } from '../../../kernel/db.ts';
import type { Caller } from '../../../kernel/internal-auth.ts';
import type { CaseRecord } from '../repository.ts';
import {
  caseExists, holdsRole, opinionBounded, reasonGiven, roleInCaseAgency, signedIn, statusAllows, versionCurrent, versionWellFormed,
  type ActionContext, type Check,
} from './checks.ts';
import { applyTransition, type StaffAction } from './transitions.ts';

const A = 'accept', R = 'reject', D = 'approve';

/** Which check runs for which action, top to bottom; the first failure decides the error. */
const CHECKS: ReadonlyArray<readonly [Check, ...StaffAction[]]> = [
  //                                           error code
  [signedIn,          A, R, D], //             UNAUTHENTICATED
  [holdsRole,         A, R, D], // R-CA-7      ROLE_REQUIRED (before lookup: no existence leak)
  [reasonGiven,          R   ], // R-CA-3      BAD_INPUT
  [opinionBounded,    A, R, D], //             BAD_INPUT
  [versionWellFormed, A, R, D], //             BAD_INPUT
  [caseExists,        A, R, D], //             CASE_NOT_FOUND
  [roleInCaseAgency,  A, R, D], // R-CA-7      ROLE_REQUIRED (the item's agency)
  [versionCurrent,    A, R, D], //             CONFLICT
  [statusAllows,      A, R, D], // R-CA-10     CASE_TRANSITION_INVALID
];

export function checksFor(action: StaffAction): Check[] {
  return CHECKS.filter(([, ...actions]) => actions.includes(action)).map(([check]) => check);
}

export interface StaffActionInput {
  action: StaffAction;
  caller: Caller;
  caseId: string;
  version?: number | null | undefined;
  opinion?: string | null | undefined;
}

/**
 * Run the checks and the transition in one transaction. `onCommitted` runs after the commit
 * (to poke the outbox relay); the events themselves were written inside the transaction.
 */
export async function runStaffAction(db: Db, input: StaffActionInput, now: Date, onCommitted?: () => void): Promise<CaseRecord> {
  const out = await db.tx(async (q) => {
    const ctx: ActionContext = {
      action: input.action, caller: input.caller, caseId: input.caseId, version: input.version,
      opinion: input.opinion?.trim() || null, q,
    };
    for (const check of checksFor(input.action)) await check(ctx);
    const c = ctx.case!;
    const staff = input.caller.kind === 'staff' ? input.caller : null;
    return applyTransition(q, c, input.action, { id: staff?.sub ?? null, name: staff?.name ?? null }, ctx.opinion, input.version ?? c.version, now);
  });
  onCommitted?.();
  return out;
}
