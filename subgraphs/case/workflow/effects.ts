/**
 * The named effects an action may carry (workflow/definition.ts EFFECTS), one small function each.
 * An effect validates its part of the input, may refuse with a registry code, and returns the
 * columns to change and what to write into the step's details (R-CA-11). Effects run inside the
 * action's transaction, after every check of ./checks.ts passed.
 */
import type { Queryable } from '../../../kernel/db.ts';
import { AppError } from '../../../kernel/errors.ts';
import { CASE_SCHEMA as S } from '../migrations.ts';
import { MAX_VISITS, type CasePatch, type CaseRecord } from '../repository.ts';
import type { WorkingCalendar } from '../../../kernel/calendar.ts';
import type { Logistics } from '../delivery/logistics.ts';
import { maxExtensionDays, type Effect, type WorkflowDef } from './definition.ts';

/** Action input beyond the opinion (GraphQL CaseActionInput). */
export interface ActionInput {
  missingMaterials?: string[] | null;
  method?: string | null;
  procedure?: string | null;
  extensionDays?: number | null;
  delivery?: { method: string; address?: string | null } | null;
  /** Set by `prepareDeliver` before the transaction (never by the client). */
  shipment?: { carrier: string; trackingNumber: string } | null;
}

export interface EffectContext {
  q: Queryable;
  case: CaseRecord;
  /** The case's workflow (its extension limit, R-CA-8). */
  workflow: WorkflowDef;
  input: ActionInput;
  handler: { id: string | null; name: string | null; agency: string | null };
  opinion: string | null;
  now: Date;
  calendar: WorkingCalendar;
  logistics: Logistics;
}

export interface EffectResult {
  patch?: CasePatch;
  details?: Record<string, unknown>;
  /** Stay in the current state (e.g. a parallel approval that is not the last one). */
  stay?: boolean;
}

/** R-CA-7 review methods; the last three are also special procedures that pause the clock (R-CA-8). */
export const REVIEW_METHODS = ['WRITTEN', 'ON_SITE', 'TESTING', 'EXPERT_REVIEW', 'HEARING', 'OTHER'] as const;
export const SPECIAL_PROCEDURES = ['HEARING', 'TESTING', 'EXPERT_REVIEW'] as const;
const MAX_MATERIALS = 50;
const MAX_TEXT = 200;

const bad = (field: string, zh: string, en: string, why: string) => new AppError('BAD_INPUT', `${zh} / ${en}`, { [field]: why });
const transitionInvalid = (zh: string, en: string) => new AppError('CASE_TRANSITION_INVALID', `${zh} / ${en}`);

type EffectFn = (ctx: EffectContext) => EffectResult | Promise<EffectResult>;

/** R-CA-4: the notice is given once, and lists every missing material. */
const requestSupplement: EffectFn = ({ case: c, input }) => {
  if (c.supplementMaterials !== null) {
    throw new AppError('SUPPLEMENT_ALREADY_REQUESTED', '已一次性告知补正，不能再次要求补正 / a supplement was already requested once for this case');
  }
  const list = (input.missingMaterials ?? []).map((m) => m.trim()).filter((m) => m !== '');
  if (list.length === 0) throw bad('missingMaterials', '请列出全部需补正的材料', 'list every missing material', 'required');
  if (list.length > MAX_MATERIALS || list.some((m) => m.length > MAX_TEXT)) {
    throw bad('missingMaterials', '补正材料清单过长', 'list too long', `at most ${MAX_MATERIALS} items of ${MAX_TEXT} characters`);
  }
  return { patch: { supplementMaterials: list }, details: { missingMaterials: list } };
};

/** R-CA-2: visits are counted, and refused beyond what the application mode promises. */
const recordVisit: EffectFn = ({ case: c }) => {
  const max = MAX_VISITS[c.mode];
  if (c.visits + 1 > max) {
    throw new AppError('VISITS_EXCEEDED', `该申请方式最多到场${max}次 / the ${c.mode} mode allows at most ${max} visit(s)`, { visits: c.visits, max });
  }
  return { patch: { visits: c.visits + 1 }, details: { visit: c.visits + 1, max } };
};

const recordReview: EffectFn = ({ input }) => {
  if (!input.method || !(REVIEW_METHODS as readonly string[]).includes(input.method)) {
    throw bad('method', '请选择审查方式', 'choose a review method', REVIEW_METHODS.join(', '));
  }
  return { details: { method: input.method } };
};

const startProcedure: EffectFn = ({ input }) => {
  if (!input.procedure || !(SPECIAL_PROCEDURES as readonly string[]).includes(input.procedure)) {
    throw bad('procedure', '请选择特别程序', 'choose a special procedure', SPECIAL_PROCEDURES.join(', '));
  }
  return { details: { procedure: input.procedure } };
};

/**
 * R-CA-8, Administrative Licensing Law art. 42: the total of approved extensions stays within the
 * workflow's limit (10 working days; 15 for joint handling, the parallel workflow).
 */
const requestExtension: EffectFn = ({ case: c, workflow, input }) => {
  if (c.extensionRequested !== null) throw transitionInvalid('已有待批准的延期申请', 'an extension request is already pending');
  const n = input.extensionDays;
  const left = maxExtensionDays(workflow) - c.extensionDays;
  if (left < 1) throw new AppError('BAD_INPUT', '延期已达法定上限 / the legal extension limit is used up', { extensionDays: 'no extension left' });
  if (!Number.isInteger(n) || n! < 1 || n! > left) {
    throw bad('extensionDays', '延期天数无效', 'invalid extension', `1 to ${left} working days`);
  }
  return { patch: { extensionRequested: n! }, details: { extensionDays: n } };
};

/** R-CA-8: extensions are announced: the new deadline is in the step log and on the case. */
const approveExtension: EffectFn = ({ case: c, calendar }) => {
  const n = c.extensionRequested;
  if (n === null) throw new AppError('EXTENSION_NOT_REQUESTED', '没有待批准的延期申请 / no extension request is pending');
  const deadline = c.deadlineAt ? calendar.addWorkingDays(new Date(c.deadlineAt), n) : null;
  return {
    patch: { extensionRequested: null, extensionDays: c.extensionDays + n, warnedAt: null, ...(deadline ? { deadlineAt: deadline } : {}) },
    details: { extensionDays: n, deadlineAt: deadline?.toISOString() ?? null },
  };
};

/**
 * R-CA-9: each required agency (the lead and every co-agency) approves once; the action moves the
 * case on only with the last approval. The rows are locked by the case row the engine holds.
 */
const parallelApproval: EffectFn = async ({ q, case: c, handler, opinion, now }) => {
  const agency = handler.agency!;
  const { rowCount } = await q.query(
    `insert into ${S}.case_approvals (case_id, agency_code, lead, approved_by, approved_at, opinion) values ($1, $2, $3, $4, $5, $6)
     on conflict do nothing`, [c.id, agency, agency === c.agencyCode, handler.id, now, opinion]);
  if (rowCount === 0) throw transitionInvalid('本部门已审批', 'your agency has already approved this case');
  const required = [c.agencyCode, ...c.coAgencies];
  const { rows } = await q.query<{ agency_code: string }>(`select agency_code from ${S}.case_approvals where case_id = $1`, [c.id]);
  const done = new Set(rows.map((r) => r.agency_code));
  const pending = required.filter((a) => !done.has(a));
  return { stay: pending.length > 0, details: { agency, pending } };
};

function deliveryInput(c: CaseRecord, input: ActionInput): { method: 'PICKUP' } | { method: 'POST'; address: string } {
  if (c.delivery) throw transitionInvalid('结果已送达', 'the result was already delivered');
  const d = input.delivery;
  if (!d || (d.method !== 'PICKUP' && d.method !== 'POST')) throw bad('delivery', '请选择送达方式', 'choose pickup or post', 'PICKUP or POST');
  if (d.method === 'PICKUP') return { method: 'PICKUP' };
  const address = d.address?.trim() ?? '';
  if (address === '' || address.length > MAX_TEXT) throw bad('delivery.address', '请填写邮寄地址', 'a postal address is required', `1 to ${MAX_TEXT} characters`);
  return { method: 'POST', address };
}

/**
 * Before the transaction (the carrier is another system: no transaction stays open across the
 * call): book the shipment, after every check passed. The booking is idempotent per case number.
 */
export async function prepareDeliver(c: CaseRecord, input: ActionInput, logistics: Logistics): Promise<ActionInput> {
  const d = deliveryInput(c, input);
  if (d.method !== 'POST') return input;
  return { ...input, shipment: await logistics.ship({ caseNumber: c.caseNumber, address: d.address, recipient: c.applicantName }) };
}

const deliver: EffectFn = async ({ case: c, input, now }) => {
  const d = deliveryInput(c, input);
  if (d.method === 'PICKUP') {
    const delivery = { method: 'PICKUP' as const, carrier: null, trackingNumber: null, address: null, at: now.toISOString() };
    return { patch: { delivery }, details: { ...delivery } };
  }
  const address = d.address;
  const shipment = input.shipment;
  if (!shipment) throw new Error('deliver by post needs prepareDeliver before the transaction');
  const delivery = { method: 'POST' as const, carrier: shipment.carrier, trackingNumber: shipment.trackingNumber, address, at: now.toISOString() };
  return { patch: { delivery }, details: { method: 'POST', carrier: shipment.carrier, trackingNumber: shipment.trackingNumber } };
};

export const EFFECT_FNS: Readonly<Record<Effect, EffectFn>> = {
  requestSupplement, recordVisit, recordReview, startProcedure, requestExtension, approveExtension, parallelApproval, deliver,
};
