/**
 * Actions on a case: the checks that guard every action, in order, in one table (after
 * oidc-provider's lib/actions/authorization/index.js), then the workflow engine. What differs
 * between actions (roles, states, reasons, effects) is data in the case's workflow definition,
 * so the table is the same for all of them.
 *
 * Rules: R-CA-7 (roles, in the item's agency), R-CA-9 (co-agencies), R-CA-10 (outcome codes),
 * R-CA-11 (step log), optimistic concurrency on `version`.
 */
import type { Db, Queryable } from '../../../kernel/db.ts';
import type { Caller } from '../../../kernel/internal-auth.ts';
import type { CaseRecord } from '../repository.ts';
import {
  actorAllowed, caseExists, holdsRole, keyWellFormed, opinionBounded, reasonGiven, replayed, signedIn, statusAllows, versionCurrent,
  versionWellFormed, workflowLoaded,
  type ActionContext, type Check,
} from './checks.ts';
import { prepareDeliver, type ActionInput } from './effects.ts';
import { actionOf } from './definition.ts';
import { knownWorkflows } from './registry.ts';
import { applyAction, type WorkflowEnv } from './transitions.ts';

/** Top to bottom; the first failure decides the error. */
export const CHECKS: ReadonlyArray<readonly [Check, string]> = [
  //                   requirement  error code
  [signedIn,          '           UNAUTHENTICATED'],
  [holdsRole,         'R-CA-7     ROLE_REQUIRED, BAD_INPUT (unknown action); before lookup: no existence leak'],
  [opinionBounded,    '           BAD_INPUT'],
  [versionWellFormed, '           BAD_INPUT'],
  [keyWellFormed,     '           BAD_INPUT'],
  [caseExists,        '           CASE_NOT_FOUND'],
  [workflowLoaded,    'workflow   CASE_TRANSITION_INVALID (action not in the case\'s workflow)'],
  [actorAllowed,      'R-CA-7/9   ROLE_REQUIRED (role and agency), CASE_NOT_FOUND (another applicant)'],
  [reasonGiven,       'R-CA-3     BAD_INPUT'],
  [replayed,          'safety     (a retry of the latest step: answered with the case, not applied again)'],
  [versionCurrent,    '           CONFLICT'],
  [statusAllows,      'R-CA-10    CASE_TRANSITION_INVALID'],
];

export interface CaseActionInput {
  action: string;
  caller: Caller;
  caseId: string;
  version?: number | null | undefined;
  opinion?: string | null | undefined;
  input?: ActionInput | null | undefined;
  idempotencyKey?: string | null | undefined;
}

/**
 * Run the checks and the action in one transaction. `onCommitted` runs after the commit (to poke
 * the outbox relay); the events themselves were written inside the transaction.
 */
export async function runCaseAction(db: Db, env: WorkflowEnv, input: CaseActionInput, now: Date, onCommitted?: () => void): Promise<CaseRecord> {
  const context = (q: Queryable): ActionContext => ({
    action: input.action, caller: input.caller, caseId: input.caseId, version: input.version,
    opinion: input.opinion?.trim() || null, idempotencyKey: input.idempotencyKey, q,
  });
  let actionInput: ActionInput = { ...input.input, shipment: null };
  // Work with other systems (the carrier) happens outside the transaction, and only after the
  // same checks passed on the case as read; the transaction checks again (optimistic).
  if (knownWorkflows().some((d) => actionOf(d, input.action)?.effects?.includes('deliver'))) {
    const pre = context(db);
    for (const [check] of CHECKS) await check(pre);
    if (!pre.replay && pre.actionDef?.effects?.includes('deliver')) actionInput = await prepareDeliver(pre.case!, actionInput, env.logistics);
  }
  const out = await db.tx(async (q) => {
    const ctx = context(q);
    for (const [check] of CHECKS) await check(ctx);
    const c = ctx.case!;
    if (ctx.replay) return { case: c, applied: false };
    const caller = input.caller;
    const handler = caller.kind === 'staff' ? { id: caller.sub, name: caller.name, agency: caller.agency }
      : caller.kind === 'person' ? { id: caller.sub, name: caller.name, agency: null } : { id: null, name: null, agency: null };
    const key = input.idempotencyKey?.trim() || null;
    return { case: await applyAction(q, env, ctx.workflow!, c, input.action, handler, ctx.opinion, actionInput, input.version ?? c.version, now, key), applied: true };
  });
  if (out.applied) onCommitted?.();
  return out.case;
}
