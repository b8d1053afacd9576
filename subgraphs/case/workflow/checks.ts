/**
 * The rules guarding actions on a case, one small named check each. Which check runs, and in what
 * order, is listed in one table in ./index.ts. A check either passes (possibly recording what it
 * learnt on the context) or throws an AppError with its code. Roles come from the case's workflow
 * definition (workflow as data): the checks know no action by name.
 */
import { AppError } from '../../../kernel/errors.ts';
import type { Caller } from '../../../kernel/internal-auth.ts';
import type { Queryable } from '../../../kernel/db.ts';
import { findCase, type CaseRecord } from '../repository.ts';
import { CASE_SCHEMA } from '../migrations.ts';
import { actionOf, isStaffRole, type ActionDef, type Actor, type WorkflowDef } from './definition.ts';
import { allWorkflows, knownWorkflows, workflowById } from './registry.ts';

export interface ActionContext {
  readonly action: string;
  readonly caller: Caller;
  readonly caseId: string;
  /** The version the client acted on; when absent, the one just read (R-CA-11 still records who acted). */
  readonly version: number | null | undefined;
  /** Opinion, or for a refusal the reason. */
  readonly opinion: string | null;
  /** Client-chosen key making a retried request answer without acting twice. */
  readonly idempotencyKey?: string | null | undefined;
  readonly q: Queryable;
  /** Set by `caseExists`. */
  case?: CaseRecord;
  /** Set by `workflowLoaded`. */
  workflow?: WorkflowDef;
  actionDef?: ActionDef;
  /** Set by `versionCurrent`: this exact action was already applied (a retried request). */
  replay?: boolean;
}

export type Check = (ctx: ActionContext) => void | Promise<void>;

/** Free text a handler writes into the step log; bounded so the log stays a log. */
export const MAX_OPINION_LENGTH = 2000;

const loaded = (ctx: ActionContext): { c: CaseRecord; a: ActionDef } => {
  if (!ctx.case || !ctx.actionDef) throw new Error(`check order: ${ctx.action} needs caseExists and workflowLoaded first`);
  return { c: ctx.case, a: ctx.actionDef };
};

const roleRequired = (roles: readonly Actor[]) => {
  const r = roles.filter(isStaffRole).join('/') || 'staff';
  return new AppError('ROLE_REQUIRED', `该操作需要${r}岗位 / this action needs the ${r} role`);
};

/** UNAUTHENTICATED: every action needs a logged-in caller. */
export const signedIn: Check = (ctx) => {
  if (ctx.caller.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', '请先登录 / please log in');
};

/** Who may take `action` in any workflow (before the case is known). */
function actorsAnywhere(defs: readonly WorkflowDef[], action: string): Set<Actor> {
  const out = new Set<Actor>();
  for (const d of defs) for (const r of actionOf(d, action)?.roles ?? []) out.add(r);
  return out;
}

function mayTakeSomewhere(caller: Caller, actors: Set<Actor>): boolean {
  if (caller.kind === 'person') return actors.has('applicant');
  if (caller.kind === 'staff') return caller.roles.some((r) => actors.has(r));
  return false;
}

/**
 * BAD_INPUT / ROLE_REQUIRED: the action exists in some workflow and the caller could take it
 * somewhere (R-CA-7). Checked before the case is looked up, so a citizen learns nothing about
 * which case ids exist.
 */
export const holdsRole: Check = async (ctx) => {
  let actors = actorsAnywhere(knownWorkflows(), ctx.action);
  if (!mayTakeSomewhere(ctx.caller, actors)) actors = actorsAnywhere(await allWorkflows(ctx.q), ctx.action); // a newer custom definition
  if (actors.size === 0) throw new AppError('BAD_INPUT', `未知操作 / unknown action ${ctx.action}`, { action: 'unknown' });
  if (!mayTakeSomewhere(ctx.caller, actors)) throw roleRequired([...actors]);
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

/** CASE_TRANSITION_INVALID: the case's own workflow has the action at all. */
export const workflowLoaded: Check = async (ctx) => {
  const def = await workflowById(ctx.q, ctx.case!.workflowId);
  const a = actionOf(def, ctx.action);
  if (!a) throw new AppError('CASE_TRANSITION_INVALID', `该办件的流程没有此操作 / the case's workflow has no action ${ctx.action}`);
  ctx.workflow = def;
  ctx.actionDef = a;
};

/**
 * ROLE_REQUIRED / CASE_NOT_FOUND: the caller is an actor of this action in this workflow: staff
 * with an allowed role in the item's agency (or, for a parallel approval, a co-agency; R-CA-7,
 * R-CA-9), or the case's own applicant (anyone else is told the case does not exist).
 */
export const actorAllowed: Check = (ctx) => {
  const { c, a } = loaded(ctx);
  const caller = ctx.caller;
  if (caller.kind === 'person') {
    if (c.applicantId !== caller.sub) throw new AppError('CASE_NOT_FOUND', '办件不存在 / no such case');
    if (!a.roles.includes('applicant')) throw roleRequired(a.roles);
    return;
  }
  if (caller.kind !== 'staff' || !caller.roles.some((r) => a.roles.includes(r))) throw roleRequired(a.roles);
  const agencies = a.effects?.includes('parallelApproval') || a.byAnyAgency ? [c.agencyCode, ...c.coAgencies] : [c.agencyCode];
  if (!agencies.includes(caller.agency)) throw roleRequired(a.roles);
};

/** BAD_INPUT: a refusal or denial must state its reason; the applicant is told why (R-CA-3). */
export const reasonGiven: Check = (ctx) => {
  if (loaded(ctx).a.reasonRequired && (!ctx.opinion || ctx.opinion.trim() === '')) {
    throw new AppError('BAD_INPUT', '请填写理由 / a reason is required', { reason: 'required' });
  }
};

/** BAD_INPUT: an idempotency key, when given, is 1–200 characters. */
export const keyWellFormed: Check = (ctx) => {
  const k = ctx.idempotencyKey;
  if (k !== null && k !== undefined && (k.trim() === '' || k.length > 200)) {
    throw new AppError('BAD_INPUT', '幂等键无效 / invalid idempotency key', { idempotencyKey: '1 to 200 characters' });
  }
};

/**
 * Idempotence: a request carrying the idempotency key of the case's latest step, for the same
 * action by the same caller, is a retry of one that succeeded (a lost response, a double click):
 * it is answered with the case as it is, and nothing is applied twice. Only the latest step
 * counts: once anything else happened, a retry is stale and the checks below refuse it.
 */
export const replayed: Check = async (ctx) => {
  const key = ctx.idempotencyKey?.trim();
  if (!key || !('sub' in ctx.caller)) return;
  const { rows } = await ctx.q.query<{ action: string; handler_id: string | null; key: string | null }>(
    `select action, handler_id, details->>'idempotencyKey' as key from ${CASE_SCHEMA}.case_steps where case_id = $1 order by id desc limit 1`,
    [loaded(ctx).c.id]);
  const last = rows[0];
  ctx.replay = last?.action === ctx.action && last.handler_id === ctx.caller.sub && last.key === key;
};

/** CONFLICT: the client acted on the current version (optimistic concurrency). */
export const versionCurrent: Check = (ctx) => {
  if (ctx.replay) return;
  const { c } = loaded(ctx);
  if (ctx.version !== null && ctx.version !== undefined && ctx.version !== c.version) {
    throw new AppError('CONFLICT', '办件已被他人更新，请刷新后重试 / the case changed meanwhile; reload and retry',
      { version: c.version });
  }
};

/** CASE_TRANSITION_INVALID: the case's status allows the action (the workflow's `from`). */
export const statusAllows: Check = (ctx) => {
  if (ctx.replay) return;
  const { c, a } = loaded(ctx);
  if (!a.from.includes(c.status)) {
    throw new AppError('CASE_TRANSITION_INVALID', `办件当前状态（${c.status}）不能执行该操作 / cannot ${ctx.action} a case in status ${c.status}`);
  }
};
