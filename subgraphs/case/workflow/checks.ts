/**
 * The rules guarding staff actions on a case, one small named check each. Which check runs for
 * which action, and in what order, is listed in one table in ./index.ts. A check either passes
 * (possibly recording what it learnt on the context) or throws an AppError with its code.
 */
import { AppError } from '../../../kernel/errors.ts';
import { requireStaffRole, type Caller, type StaffRole } from '../../../kernel/internal-auth.ts';
import type { Queryable } from '../../../kernel/db.ts';
import { findCase, type CaseRecord } from '../repository.ts';
import { TRANSITIONS, canTransition, type StaffAction } from './transitions.ts';

export interface ActionContext {
  readonly action: StaffAction;
  readonly caller: Caller;
  readonly caseId: string;
  /** The version the client acted on; when absent, the one just read (R-CA-11 still records who acted). */
  readonly version: number | null | undefined;
  /** Opinion, or for a refusal the reason. */
  readonly opinion: string | null;
  readonly q: Queryable;
  /** Set by `caseExists`. */
  case?: CaseRecord;
}

export type Check = (ctx: ActionContext) => void | Promise<void>;

/** Free text a handler writes into the step log; bounded so the log stays a log. */
export const MAX_OPINION_LENGTH = 2000;

const roleOf = (ctx: ActionContext) => TRANSITIONS[ctx.action].by as StaffRole;
const loaded = (ctx: ActionContext): CaseRecord => {
  if (!ctx.case) throw new Error(`check order: ${ctx.action} needs caseExists first`);
  return ctx.case;
};

/** UNAUTHENTICATED: every action needs a logged-in caller. */
export const signedIn: Check = (ctx) => {
  if (ctx.caller.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', '请先登录 / please log in');
};

/**
 * ROLE_REQUIRED: the caller is staff holding the action's role somewhere (R-CA-7). Checked before
 * the case is looked up, so a citizen learns nothing about which case ids exist.
 */
export const holdsRole: Check = (ctx) => {
  const c = ctx.caller;
  if (c.kind !== 'staff' || !c.roles.includes(roleOf(ctx))) {
    throw new AppError('ROLE_REQUIRED', `该操作需要${roleOf(ctx)}岗位 / this action needs the ${roleOf(ctx)} role`);
  }
};

/** BAD_INPUT: a refusal (不予受理) must state its reason; the applicant is told why (R-CA-3). */
export const reasonGiven: Check = (ctx) => {
  if (!ctx.opinion || ctx.opinion.trim() === '') {
    throw new AppError('BAD_INPUT', '请填写不予受理的理由 / a reason is required', { reason: 'required' });
  }
};

/** BAD_INPUT: opinions are bounded. */
export const opinionBounded: Check = (ctx) => {
  if (ctx.opinion && ctx.opinion.length > MAX_OPINION_LENGTH) {
    throw new AppError('BAD_INPUT', `意见不能超过${MAX_OPINION_LENGTH}字 / opinion too long`, { opinion: `at most ${MAX_OPINION_LENGTH} characters` });
  }
};

/** BAD_INPUT: a version, when given, is a positive integer. */
export const versionWellFormed: Check = (ctx) => {
  if (ctx.version !== null && ctx.version !== undefined && (!Number.isInteger(ctx.version) || ctx.version < 1)) {
    throw new AppError('BAD_INPUT', '版本号无效 / invalid version', { version: 'positive integer' });
  }
};

/** CASE_NOT_FOUND: the case exists. */
export const caseExists: Check = async (ctx) => {
  const c = await findCase(ctx.q, ctx.caseId);
  if (!c) throw new AppError('CASE_NOT_FOUND', '办件不存在 / no such case');
  ctx.case = c;
};

/** ROLE_REQUIRED: the role is held in the agency implementing the case's item (R-CA-7). */
export const roleInCaseAgency: Check = (ctx) => {
  requireStaffRole(ctx.caller, loaded(ctx).agencyCode, roleOf(ctx));
};

/** CONFLICT: the client acted on the current version (optimistic concurrency). */
export const versionCurrent: Check = (ctx) => {
  const c = loaded(ctx);
  if (ctx.version !== null && ctx.version !== undefined && ctx.version !== c.version) {
    throw new AppError('CONFLICT', '办件已被他人更新，请刷新后重试 / the case changed meanwhile; reload and retry',
      { version: c.version });
  }
};

/** CASE_TRANSITION_INVALID: the case's status allows the action (./transitions.ts). */
export const statusAllows: Check = (ctx) => {
  const c = loaded(ctx);
  if (!canTransition(ctx.action, c.status)) {
    throw new AppError('CASE_TRANSITION_INVALID', `办件当前状态（${c.status}）不能执行该操作 / cannot ${ctx.action} a case in status ${c.status}`);
  }
};
