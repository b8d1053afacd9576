/**
 * Resolvers for schema/case.graphql. Visibility rule for reads: a case is seen by its applicant
 * and by staff of its agency (and of its co-agencies, R-CA-9); anyone else gets null, exactly as
 * for a case that does not exist, so ids cannot be probed.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import type { Db } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import { requirePerson, requireLoggedIn, type Caller } from '../../kernel/internal-auth.ts';
import type { SubgraphContext } from '../../kernel/subgraph.ts';
import type { Clock } from '../../kernel/clock.ts';
import { CASE_SCHEMA as S } from './migrations.ts';
import { MAX_VISITS, findCase, listByApplicant, listQueue, listSteps, type CaseRecord, type CaseStatus } from './repository.ts';
import { submitCase, type SubmitCaseInput } from './submit.ts';
import { runCaseAction } from './workflow/index.ts';
import type { StaffAction, WorkflowEnv } from './workflow/transitions.ts';
import type { ActionInput } from './workflow/effects.ts';
import { KNOWN_STATES, maxExtensionDays, type WorkflowDef } from './workflow/definition.ts';
import { allWorkflows, bindItemWorkflow, saveWorkflow, workflowById } from './workflow/registry.ts';
import { findItem } from './repository.ts';
import { isValidCreditCode } from '../../kernel/ids.ts';
import { workQueue } from './queue.ts';
import { accountabilityRecords, supervisionReport } from './supervision.ts';
import type { KeyObject } from 'node:crypto';
import { codeMatches, findByNumber, publicView, trackingCode, trackingUrl } from './tracking/view.ts';
import { renderReceiptPdf } from './tracking/receipt.ts';
import { downloadUrl, listMaterials, requestUpload, useLicence, type LicenceRef, type MaterialRecord, type MaterialsEnv } from './materials/materials.ts';

export interface CaseContext extends SubgraphContext {
  db: Db;
  clock: Clock;
  env: WorkflowEnv;
  /** The internal key (tracking codes) and CASE_PUBLIC_URL (tracking addresses). */
  key: KeyObject;
  publicUrl: string;
  materials: MaterialsEnv;
  /** Wake the outbox relay after a commit that wrote events. */
  poke: () => void;
}

export function canSee(caller: Caller, c: CaseRecord): boolean {
  if (caller.kind === 'person') return c.applicantId === caller.sub;
  if (caller.kind === 'staff') return c.agencyCode === caller.agency || c.coAgencies.includes(caller.agency);
  return false;
}

async function visibleCase(ctx: CaseContext, id: string): Promise<CaseRecord | null> {
  const c = await findCase(ctx.db, id);
  return c && canSee(ctx.caller, c) ? c : null;
}

const STATUSES: readonly string[] = KNOWN_STATES;

function requireStaff(caller: Caller) {
  const c = requireLoggedIn(caller);
  if (c.kind !== 'staff') throw new AppError('ROLE_REQUIRED', '仅限工作人员 / staff only');
  return c;
}

type ActionArgs = {
  id: string; version?: number | null; opinion?: string | null; reason?: string | null; action?: string; input?: ActionInput | null; idempotencyKey?: string | null;
};

function namedAction(action: StaffAction) {
  return (_: unknown, args: ActionArgs, ctx: CaseContext) =>
    runCaseAction(ctx.db, ctx.env, {
      action, caller: ctx.caller, caseId: args.id, version: args.version, opinion: action === 'reject' ? args.reason : args.opinion,
      idempotencyKey: args.idempotencyKey,
    }, ctx.clock.now(), ctx.poke);
}

const workflowView = (w: WorkflowDef) => ({
  ...w,
  maxExtensionDays: maxExtensionDays(w),
  states: w.states.map((s) => ({ ...s, final: s.final === true, deadline: s.deadline === undefined ? null : String(s.deadline), clock: s.clock ?? null })),
  actions: w.actions.map((a) => ({ ...a, to: a.to ?? null, outcome: a.outcome ?? null, reasonRequired: a.reasonRequired === true, effects: a.effects ?? [], byAnyAgency: a.byAnyAgency === true })),
});

export const resolvers: GraphQLResolverMap<CaseContext> = {
  CaseMaterial: {
    downloadUrl: (m: MaterialRecord & { caseId: string }, _: unknown, ctx: CaseContext) => downloadUrl(ctx.materials, m.caseId, m),
  },
  Query: {
    myCases: (_: unknown, __: unknown, ctx: CaseContext) => listByApplicant(ctx.db, requirePerson(ctx.caller).sub),
    case: (_: unknown, args: { id: string }, ctx: CaseContext) => visibleCase(ctx, args.id),
    caseQueue: (_: unknown, args: { status: CaseStatus }, ctx: CaseContext) => {
      const c = requireStaff(ctx.caller);
      if (!STATUSES.includes(args.status)) throw new AppError('BAD_INPUT', 'unknown status', { status: 'unknown' });
      return listQueue(ctx.db, c.agency, args.status);
    },
    workQueue: (_: unknown, __: unknown, ctx: CaseContext) => {
      const c = requireStaff(ctx.caller);
      return workQueue(ctx.db, c.agency, c.roles);
    },
    supervision: (_: unknown, __: unknown, ctx: CaseContext) => supervisionReport(ctx.db, requireStaff(ctx.caller).agency),
    trackCase: async (_: unknown, args: { caseNumber: string; code?: string | null }, ctx: CaseContext) => {
      const c = await findByNumber(ctx.db, args.caseNumber);
      if (!c) return null;
      const allowed = canSee(ctx.caller, c) || (typeof args.code === 'string' && codeMatches(ctx.key, c.caseNumber, args.code));
      return allowed ? publicView(ctx.db, c) : null;
    },
    workflows: async (_: unknown, __: unknown, ctx: CaseContext) => {
      requireStaff(ctx.caller);
      return (await allWorkflows(ctx.db)).map(workflowView);
    },
  },
  Mutation: {
    submitCase: async (_: unknown, args: { input: SubmitCaseInput }, ctx: CaseContext) => submitCase(ctx.db, ctx.env.calendar, ctx.caller, args.input, ctx.clock.now()),
    acceptCase: namedAction('accept'),
    rejectCase: namedAction('reject'),
    approveCase: namedAction('approve'),
    defineWorkflow: async (_: unknown, args: { definition: string }, ctx: CaseContext) => {
      const s = requireStaff(ctx.caller);
      if (!s.roles.includes('decider')) throw new AppError('ROLE_REQUIRED', '需要决定岗位 / the decider role is required');
      let def: WorkflowDef;
      try { def = JSON.parse(args.definition) as WorkflowDef; } catch { throw new AppError('BAD_INPUT', '流程定义不是 JSON / not JSON', { definition: 'JSON' }); }
      if (typeof def !== 'object' || def === null || !Array.isArray(def.states) || !Array.isArray(def.actions)) {
        throw new AppError('WORKFLOW_INVALID', '流程定义无效 / broken workflow definition', { problems: ['states and actions must be arrays'] });
      }
      return workflowView(await saveWorkflow(ctx.db, def, ctx.clock.now()));
    },
    bindItemWorkflow: async (_: unknown, args: { itemId: string; workflowId: string; coAgencies?: string[] | null }, ctx: CaseContext) => {
      const s = requireStaff(ctx.caller);
      const item = await findItem(ctx.db, args.itemId);
      if (!item) throw new AppError('ITEM_NOT_FOUND', '事项不存在 / no such service item');
      if (!s.roles.includes('decider') || s.agency !== item.agencyCode) throw new AppError('ROLE_REQUIRED', '需要本事项实施机关的决定岗位 / the decider role in the item\'s agency is required');
      const co = [...new Set(args.coAgencies ?? [])];
      for (const a of co) if (!isValidCreditCode(a) || a === item.agencyCode) throw new AppError('BAD_INPUT', '协办部门代码无效 / invalid co-agency', { coAgencies: a });
      await bindItemWorkflow(ctx.db, item.id, args.workflowId, co, ctx.clock.now());
      return true;
    },
    requestMaterialUpload: (_: unknown, args: { caseId: string; name: string }, ctx: CaseContext) =>
      requestUpload(ctx.db, ctx.materials, ctx.caller, args.caseId, args.name),
    useLicenceForMaterial: async (_: unknown, args: LicenceRef & { caseId: string; materialCode: string }, ctx: CaseContext) =>
      ({ ...await useLicence(ctx.db, ctx.materials, ctx.caller, args.caseId, args.materialCode, args), caseId: args.caseId }),
    caseAction: (_: unknown, args: ActionArgs, ctx: CaseContext) =>
      runCaseAction(ctx.db, ctx.env, {
        action: args.action ?? '', caller: ctx.caller, caseId: args.id, version: args.version, opinion: args.opinion, input: args.input,
        idempotencyKey: args.idempotencyKey,
      }, ctx.clock.now(), ctx.poke),
  },
  Case: {
    __resolveReference: (ref: { id: string }, ctx: CaseContext) => visibleCase(ctx, ref.id),
    item: (c: CaseRecord) => ({ __typename: 'Item', id: c.itemId }),
    applicant: (c: CaseRecord) => ({ __typename: 'Account', id: c.applicantId }),
    steps: async (c: CaseRecord, _: unknown, ctx: CaseContext) =>
      (await listSteps(ctx.db, c.id)).map((s) => ({ ...s, details: s.details ? JSON.stringify(s.details) : null })),
    availableActions: async (c: CaseRecord, _: unknown, ctx: CaseContext) =>
      (await workflowById(ctx.db, c.workflowId)).actions.filter((a) => a.from.includes(c.status) && !a.roles.includes('system')).map((a) => a.name),
    maxVisits: (c: CaseRecord) => MAX_VISITS[c.mode],
    pendingApprovals: async (c: CaseRecord, _: unknown, ctx: CaseContext) => {
      if (c.coAgencies.length === 0) return [];
      const { rows } = await ctx.db.query<{ agency_code: string }>(`select agency_code from ${S}.case_approvals where case_id = $1`, [c.id]);
      const done = new Set(rows.map((r) => r.agency_code));
      return [c.agencyCode, ...c.coAgencies].filter((a) => !done.has(a));
    },
    // R-CA-8: who lapsed a deadline is internal supervision data: staff of the case's agency only.
    accountability: (c: CaseRecord, _: unknown, ctx: CaseContext) =>
      ctx.caller.kind === 'staff' && ctx.caller.agency === c.agencyCode ? accountabilityRecords(ctx.db, c.id) : null,
    materials: async (c: CaseRecord, _: unknown, ctx: CaseContext) =>
      (await listMaterials(ctx.db, c.id)).map((m) => ({ ...m, caseId: c.id })),
    trackingCode: (c: CaseRecord, _: unknown, ctx: CaseContext) => trackingCode(ctx.key, c.caseNumber),
    trackingUrl: (c: CaseRecord, _: unknown, ctx: CaseContext) => trackingUrl(ctx.publicUrl, ctx.key, c.caseNumber),
    acceptanceReceipt: async (c: CaseRecord, _: unknown, ctx: CaseContext) => {
      const accepted = (await listSteps(ctx.db, c.id)).find((s) => s.action === 'accept');
      if (!accepted) return null;
      const pdf = await renderReceiptPdf({
        case: c, acceptedAt: accepted.at, trackingCode: trackingCode(ctx.key, c.caseNumber), trackingUrl: trackingUrl(ctx.publicUrl, ctx.key, c.caseNumber),
      });
      return pdf.toString('base64');
    },
  },
};
