/**
 * Workflow as data (R-CA-2, R-CA-7): what an item's implementation allows, as a plain JSON-able
 * object — states, actions, the roles allowed per action, deadlines per state — checked by one
 * validator before anything uses it. The engine (./transitions.ts) interprets a definition; it
 * never hard-codes an item's flow.
 *
 * Deadlines (R-CA-8) are working days on the holiday calendar: `legal` and `promised` take the
 * item's own limits, a number is fixed. A state whose clock is `paused` (special procedures,
 * waiting for a supplement) stops the running clock; coming back resumes it.
 */
import { AppError } from '../../../kernel/errors.ts';
import { STAFF_ROLES, type StaffRole } from '../../../kernel/internal-auth.ts';

/** Who takes an action: a staff role (R-CA-7), the case's applicant, or the system (events). */
export type Actor = StaffRole | 'applicant' | 'system';

/**
 * Named side effects an action may carry; each is one small function in ./effects.ts. Data names
 * them, code implements them, so a definition can combine them but never invent behaviour.
 */
export const EFFECTS = [
  'requestSupplement', // R-CA-4: one notice listing every missing material
  'recordVisit',       // R-CA-2: count in-person visits against the mode's maximum
  'recordReview',      // R-CA-7: review method
  'startProcedure',    // R-CA-8: hearing, testing, expert review (clock paused by the target state)
  'requestExtension',  // R-CA-8: extension asked for …
  'approveExtension',  // … and granted (adds working days)
  'parallelApproval',  // R-CA-9: lead and co-agencies approve; moves on when all are in
  'deliver',           // result delivery: pickup, or post with a tracking number
] as const;
export type Effect = (typeof EFFECTS)[number];

export type DeadlineSpec = number | 'legal' | 'promised';

export interface StateDef {
  readonly code: string;
  readonly label: string;
  readonly final?: boolean;
  /** Working days allowed in this state from entering it (a new clock). */
  readonly deadline?: DeadlineSpec;
  /**
   * `paused`: the clock of the state the case came from stops while here, and resumes (moved by
   * the working days spent here) when the case goes back (special procedures, R-CA-8).
   * `stopped`: the clock stops while here, and the state the case goes to next starts its own
   * clock afresh (waiting for a supplement: Administrative Licensing Law art. 32(4) counts the
   * 5 days from receipt of the materials, so the complete materials start a new period).
   */
  readonly clock?: 'paused' | 'stopped';
}

export interface ActionDef {
  readonly name: string;
  readonly label: string;
  readonly from: readonly string[];
  /** Target state; absent: the case stays where it is (a recorded step, e.g. a review). */
  readonly to?: string;
  /** When the case has no licence type, the decision itself is the result (R-LI-2). */
  readonly toWithoutLicence?: string;
  readonly roles: readonly Actor[];
  /** GB/T 39046 outcome code set on this action (R-CA-10). */
  readonly outcome?: string;
  readonly outcomeWithoutLicence?: string;
  /** The opinion is a reason the applicant is told (R-CA-3). */
  readonly reasonRequired?: boolean;
  readonly effects?: readonly Effect[];
  /**
   * R-CA-9: staff of a co-agency of the case may take it too (not only the lead agency): in
   * parallel approval each required agency may refuse its part (`deny`). Actions with the
   * `parallelApproval` effect are open to co-agencies anyway.
   */
  readonly byAnyAgency?: boolean;
}

export interface WorkflowDef {
  readonly id: string;
  readonly name: string;
  readonly initial: string;
  readonly states: readonly StateDef[];
  readonly actions: readonly ActionDef[];
  /**
   * Working days an approved extension may add in total (R-CA-8). Administrative Licensing Law
   * art. 42: 20 days + 10 with the head's approval; joint or centralised handling (art. 42 para. 2
   * with art. 26): 45 days + 15. Absent: DEFAULT_EXTENSION_DAYS.
   */
  readonly maxExtensionDays?: number;
}

/** Administrative Licensing Law art. 42 para. 1: an extension adds at most 10 working days. */
export const DEFAULT_EXTENSION_DAYS = 10;
export const maxExtensionDays = (def: WorkflowDef): number => def.maxExtensionDays ?? DEFAULT_EXTENSION_DAYS;

/** GB/T 39046 family outcome codes (standards.md): 0 approved with certificate … 6 not accepted. */
export const OUTCOME_CODES = ['0', '1', '2', '3', '4', '5', '6'] as const;

/** State codes the database accepts (cases.status check, migration 101). */
export const KNOWN_STATES = ['SUBMITTED', 'SUPPLEMENT_REQUESTED', 'ACCEPTED', 'SUSPENDED', 'APPROVED', 'REJECTED', 'COMPLETED'] as const;

const ACTORS: readonly string[] = [...STAFF_ROLES, 'applicant', 'system'];
const NAME = /^[a-z][A-Za-z]{1,39}$/;

/**
 * Every problem of a definition, as human-readable lines; empty when it is sound. Checked: ids and
 * names, known states, initial state, actions naming known states and at least one actor, outcome
 * codes, effects, deadlines, final states without ways out (only recorded steps), every state
 * reachable from the initial one, and a final state reachable from every state (no dead ends).
 */
export function workflowProblems(def: WorkflowDef): string[] {
  const p: string[] = [];
  if (!/^[a-z0-9][a-z0-9._-]{1,63}$/.test(def.id ?? '')) p.push('id: 2–64 characters a-z 0-9 . _ -');
  if (!def.name?.trim()) p.push('name: required');
  if (def.maxExtensionDays !== undefined && !(Number.isInteger(def.maxExtensionDays) && def.maxExtensionDays >= 0 && def.maxExtensionDays <= 30)) {
    p.push('maxExtensionDays: 0–30 working days (the law allows 10, or 15 for joint handling)');
  }
  const states = new Map<string, StateDef>();
  for (const s of def.states ?? []) {
    if (states.has(s.code)) p.push(`state ${s.code}: defined twice`);
    states.set(s.code, s);
    if (!(KNOWN_STATES as readonly string[]).includes(s.code)) p.push(`state ${s.code}: not a case status (${KNOWN_STATES.join(', ')})`);
    if (s.deadline !== undefined && !(s.deadline === 'legal' || s.deadline === 'promised' || (Number.isInteger(s.deadline) && s.deadline >= 0 && s.deadline <= 365))) {
      p.push(`state ${s.code}: deadline must be legal, promised or 0–365 working days`);
    }
    if (s.clock !== undefined && s.clock !== 'paused' && s.clock !== 'stopped') p.push(`state ${s.code}: clock must be paused or stopped`);
    if (s.final && (s.deadline !== undefined || s.clock)) p.push(`state ${s.code}: a final state has no deadline or clock`);
  }
  if (!states.has(def.initial)) p.push(`initial: unknown state ${def.initial}`);
  if (def.initial !== 'SUBMITTED') p.push('initial: must be SUBMITTED (what submitCase creates)');
  if (![...states.values()].some((s) => s.final)) p.push('states: no final state');
  const names = new Set<string>();
  for (const a of def.actions ?? []) {
    const where = `action ${a.name}`;
    if (!NAME.test(a.name ?? '')) p.push(`${where}: name must be camelCase letters`);
    if (names.has(a.name)) p.push(`${where}: defined twice`);
    names.add(a.name);
    if (!a.from?.length) p.push(`${where}: no from state`);
    for (const f of a.from ?? []) if (!states.has(f)) p.push(`${where}: unknown from state ${f}`);
    for (const t of [a.to, a.toWithoutLicence]) if (t !== undefined && !states.has(t)) p.push(`${where}: unknown target state ${t}`);
    if (!a.roles?.length) p.push(`${where}: no role may take it`);
    for (const r of a.roles ?? []) if (!ACTORS.includes(r)) p.push(`${where}: unknown role ${r}`);
    for (const o of [a.outcome, a.outcomeWithoutLicence]) if (o !== undefined && !(OUTCOME_CODES as readonly string[]).includes(o)) p.push(`${where}: outcome ${o} is not a GB/T 39046 code`);
    if (a.byAnyAgency !== undefined && typeof a.byAnyAgency !== 'boolean') p.push(`${where}: byAnyAgency must be true or false`);
    for (const e of a.effects ?? []) if (!(EFFECTS as readonly string[]).includes(e)) p.push(`${where}: unknown effect ${e}`);
    for (const f of a.from ?? []) {
      if (states.get(f)?.final && a.to !== undefined && a.to !== f) p.push(`${where}: leaves final state ${f}`);
    }
    if (a.to !== undefined && states.get(a.to)?.final && a.outcome === undefined) p.push(`${where}: reaches final state ${a.to} without an outcome code`);
  }
  if (p.length === 0) p.push(...graphProblems(def));
  return p;
}

function graphProblems(def: WorkflowDef): string[] {
  const next = new Map<string, Set<string>>(def.states.map((s) => [s.code, new Set<string>()]));
  for (const a of def.actions) for (const f of a.from) for (const t of [a.to, a.toWithoutLicence]) if (t && t !== f) next.get(f)!.add(t);
  const reach = (start: string, edges: Map<string, Set<string>>) => {
    const seen = new Set([start]);
    const todo = [start];
    while (todo.length) for (const n of edges.get(todo.pop()!) ?? []) if (!seen.has(n)) { seen.add(n); todo.push(n); }
    return seen;
  };
  const p: string[] = [];
  const fromInitial = reach(def.initial, next);
  for (const s of def.states) if (!fromInitial.has(s.code)) p.push(`state ${s.code}: unreachable from ${def.initial}`);
  const finals = def.states.filter((s) => s.final).map((s) => s.code);
  for (const s of def.states) {
    if (s.final) continue;
    const r = reach(s.code, next);
    if (!finals.some((f) => r.has(f))) p.push(`state ${s.code}: no way to a final state (dead end)`);
  }
  return p;
}

/** WORKFLOW_INVALID with every problem listed, or the definition unchanged. */
export function validateWorkflow(def: WorkflowDef): WorkflowDef {
  const problems = workflowProblems(def);
  if (problems.length) {
    throw new AppError('WORKFLOW_INVALID', `流程定义无效 / broken workflow definition: ${problems.join('; ')}`, { problems });
  }
  return def;
}

export const stateOf = (def: WorkflowDef, code: string): StateDef | undefined => def.states.find((s) => s.code === code);
export const actionOf = (def: WorkflowDef, name: string): ActionDef | undefined => def.actions.find((a) => a.name === name);
export const isStaffRole = (a: Actor): a is StaffRole => (STAFF_ROLES as readonly string[]).includes(a);
