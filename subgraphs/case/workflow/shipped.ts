/**
 * The workflows shipped with the platform (R-CA-2, R-CA-7). An item gets `instant` when its case
 * type is 1 (即办), `promised` otherwise (承诺件, type 2 and 9), unless an item binding names
 * another one (./registry.ts); `parallel` is bound to items handled jointly (R-CA-9).
 *
 * Deadlines (R-CA-8, Administrative Licensing Law arts. 32, 42, 44): a supplement notice or an
 * acceptance within 5 working days of receipt; the decision within the item's promised limit
 * (never more than the legal one, which the item service enforces); the certificate within 10
 * working days of the decision. Waiting for a supplement and special procedures pause the clock.
 */
import type { ActionDef, StateDef, WorkflowDef } from './definition.ts';

const S = {
  submitted: { code: 'SUBMITTED', label: '已提交 / submitted', deadline: 5 },
  // Art. 32(4): the acceptance period counts from receipt of the (complete) materials: a new clock.
  supplement: { code: 'SUPPLEMENT_REQUESTED', label: '待补正 / waiting for a supplement', clock: 'stopped' },
  accepted: { code: 'ACCEPTED', label: '已受理·审查中 / accepted, under review', deadline: 'promised' },
  suspended: { code: 'SUSPENDED', label: '特别程序（听证、检验检测、专家评审）/ special procedure', clock: 'paused' },
  approved: { code: 'APPROVED', label: '准予许可·制证中 / approved, certificate in production', deadline: 10 },
  rejected: { code: 'REJECTED', label: '不予受理 / not accepted', final: true },
  completed: { code: 'COMPLETED', label: '办结 / completed', final: true },
} as const satisfies Record<string, StateDef>;

/** The actions every workflow has; the existing mutations (accept, reject, approve) are among them. */
const A = {
  requestSupplement: {
    name: 'requestSupplement', label: '一次性告知补正 / request a supplement', from: ['SUBMITTED'], to: 'SUPPLEMENT_REQUESTED',
    roles: ['acceptor'], effects: ['requestSupplement'],
  },
  supplement: { name: 'supplement', label: '补正材料 / supplement', from: ['SUPPLEMENT_REQUESTED'], to: 'SUBMITTED', roles: ['applicant'] },
  accept: { name: 'accept', label: '受理 / accept', from: ['SUBMITTED'], to: 'ACCEPTED', roles: ['acceptor'] },
  reject: {
    name: 'reject', label: '不予受理 / do not accept', from: ['SUBMITTED', 'SUPPLEMENT_REQUESTED'], to: 'REJECTED', outcome: '6',
    roles: ['acceptor'], reasonRequired: true,
  },
  visit: {
    name: 'visit', label: '登记到场 / record a visit', from: ['SUBMITTED', 'SUPPLEMENT_REQUESTED', 'ACCEPTED', 'APPROVED', 'COMPLETED'],
    roles: ['receiver', 'acceptor'], effects: ['recordVisit'],
  },
  review: { name: 'review', label: '审查 / review', from: ['ACCEPTED'], roles: ['reviewer'], effects: ['recordReview'] },
  startProcedure: {
    name: 'startProcedure', label: '启动特别程序 / start a special procedure', from: ['ACCEPTED'], to: 'SUSPENDED',
    roles: ['reviewer'], effects: ['startProcedure'],
  },
  endProcedure: { name: 'endProcedure', label: '特别程序结束 / end the special procedure', from: ['SUSPENDED'], to: 'ACCEPTED', roles: ['reviewer'] },
  requestExtension: {
    name: 'requestExtension', label: '申请延期 / request an extension', from: ['ACCEPTED'], roles: ['reviewer'],
    reasonRequired: true, effects: ['requestExtension'],
  },
  approveExtension: {
    name: 'approveExtension', label: '批准延期 / approve the extension', from: ['ACCEPTED'], roles: ['decider'], effects: ['approveExtension'],
  },
  // With a licence type the case waits for the licence (R-LI-2); without one, the decision is the result.
  approve: {
    name: 'approve', label: '准予许可 / approve', from: ['ACCEPTED'], to: 'APPROVED', toWithoutLicence: 'COMPLETED',
    outcomeWithoutLicence: '0', roles: ['decider'],
  },
  deny: {
    name: 'deny', label: '不予许可 / deny', from: ['ACCEPTED'], to: 'COMPLETED', outcome: '1', roles: ['decider'], reasonRequired: true,
  },
  // GB/T 39046 outcome 5 (撤回/退回): the applicant withdraws before the decision.
  withdraw: {
    name: 'withdraw', label: '撤回申请 / withdraw', from: ['SUBMITTED', 'SUPPLEMENT_REQUESTED', 'ACCEPTED', 'SUSPENDED'], to: 'COMPLETED',
    outcome: '5', roles: ['applicant'],
  },
  // GB/T 39046 outcome 2 (作废): the case was registered in error (wrong item, wrong applicant
  // data entered at the window); a decider voids it, with the reason.
  voidCase: {
    name: 'voidCase', label: '作废 / void (registered in error)', from: ['SUBMITTED', 'SUPPLEMENT_REQUESTED', 'ACCEPTED', 'SUSPENDED'],
    to: 'COMPLETED', outcome: '2', roles: ['decider'], reasonRequired: true,
  },
  // GB/T 39046 outcome 3 (删除): a submission not to be handled at all (a duplicate of another
  // case, a test entry), removed by the acceptor before acceptance; the record itself stays
  // (the step log is append-only, R-CA-11).
  deleteCase: {
    name: 'deleteCase', label: '删除 / delete (duplicate submission)', from: ['SUBMITTED', 'SUPPLEMENT_REQUESTED'],
    to: 'COMPLETED', outcome: '3', roles: ['acceptor'], reasonRequired: true,
  },
  // GB/T 39046 outcome 4 (转报): accepted here, decided by a higher-level authority (受理并转报上一级
  // 部门审批); this agency's case ends, the opinion names the authority it went to.
  forward: {
    name: 'forward', label: '转报 / forward to the deciding authority', from: ['ACCEPTED'], to: 'COMPLETED', outcome: '4',
    roles: ['decider'], reasonRequired: true,
  },
  complete: { name: 'complete', label: '办结 / complete', from: ['APPROVED'], to: 'COMPLETED', outcome: '0', roles: ['system'] },
  deliver: {
    name: 'deliver', label: '送达 / deliver the result', from: ['COMPLETED'], roles: ['receiver', 'acceptor'], effects: ['deliver'],
  },
} as const satisfies Record<string, ActionDef>;

/** 承诺件: the full flow (case type 2). */
export const PROMISED: WorkflowDef = {
  id: 'promised', name: '承诺件 / promised item', initial: 'SUBMITTED',
  states: [S.submitted, S.supplement, S.accepted, S.suspended, S.approved, S.rejected, S.completed],
  actions: Object.values(A),
};

/**
 * 即办: decided on the spot (case type 1): accepted and decided the same working day (deadline 0),
 * and the acceptor may decide. No special procedures or extensions.
 */
export const INSTANT: WorkflowDef = {
  id: 'instant', name: '即办件 / instant item', initial: 'SUBMITTED',
  states: [{ ...S.submitted, deadline: 1 }, S.supplement, { ...S.accepted, deadline: 0 }, S.approved, S.rejected, S.completed],
  actions: [
    A.requestSupplement, A.supplement, A.accept, A.reject, A.visit, A.review,
    { ...A.approve, roles: ['acceptor', 'decider'] }, { ...A.deny, roles: ['acceptor', 'decider'] }, { ...A.withdraw, from: ['SUBMITTED', 'SUPPLEMENT_REQUESTED', 'ACCEPTED'] },
    { ...A.voidCase, from: ['SUBMITTED', 'SUPPLEMENT_REQUESTED', 'ACCEPTED'] }, A.deleteCase, A.forward, A.complete, A.deliver,
  ],
};

/**
 * 并联审批 (R-CA-9): one window (the lead agency accepts), co-agencies and the lead approve in
 * parallel; the case moves on only when every required approval is in. Joint handling has the
 * legal 45 working days (the item's legal limit) rather than the promised one.
 */
export const PARALLEL: WorkflowDef = {
  id: 'parallel', name: '并联审批 / parallel approval', initial: 'SUBMITTED',
  states: [S.submitted, S.supplement, { ...S.accepted, deadline: 'legal' }, S.suspended, S.approved, S.rejected, S.completed],
  maxExtensionDays: 15,
  // Every required agency approves its part; any of them may refuse it, which ends the case
  // (outcome 1, one notice).
  actions: [
    ...Object.values(A).filter((a) => a.name !== 'approve' && a.name !== 'deny'),
    { ...A.approve, effects: ['parallelApproval'] }, { ...A.deny, byAnyAgency: true },
  ],
};

export const SHIPPED: readonly WorkflowDef[] = [PROMISED, INSTANT, PARALLEL];
