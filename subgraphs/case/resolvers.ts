/**
 * Resolvers for schema/case.graphql. Visibility rule for reads: a case is seen by its applicant
 * and by staff of its agency; anyone else gets null, exactly as for a case that does not exist,
 * so ids cannot be probed.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import type { Db } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import { requirePerson, requireLoggedIn, type Caller } from '../../kernel/internal-auth.ts';
import type { SubgraphContext } from '../../kernel/subgraph.ts';
import type { Clock } from '../../kernel/clock.ts';
import { findCase, listByApplicant, listQueue, listSteps, type CaseRecord, type CaseStatus } from './repository.ts';
import { submitCase, type SubmitCaseInput } from './submit.ts';
import { runStaffAction } from './workflow/index.ts';
import type { StaffAction } from './workflow/transitions.ts';

export interface CaseContext extends SubgraphContext {
  db: Db;
  clock: Clock;
  /** Wake the outbox relay after a commit that wrote events. */
  poke: () => void;
}

export function canSee(caller: Caller, c: CaseRecord): boolean {
  if (caller.kind === 'person') return c.applicantId === caller.sub;
  if (caller.kind === 'staff') return c.agencyCode === caller.agency;
  return false;
}

async function visibleCase(ctx: CaseContext, id: string): Promise<CaseRecord | null> {
  const c = await findCase(ctx.db, id);
  return c && canSee(ctx.caller, c) ? c : null;
}

const STATUSES: readonly CaseStatus[] = ['SUBMITTED', 'ACCEPTED', 'REJECTED', 'APPROVED', 'COMPLETED'];

function staffAction(action: StaffAction) {
  return (_: unknown, args: { id: string; version?: number | null; opinion?: string | null; reason?: string | null }, ctx: CaseContext) =>
    runStaffAction(ctx.db, {
      action, caller: ctx.caller, caseId: args.id, version: args.version, opinion: action === 'reject' ? args.reason : args.opinion,
    }, ctx.clock.now(), ctx.poke);
}

export const resolvers: GraphQLResolverMap<CaseContext> = {
  Query: {
    myCases: (_: unknown, __: unknown, ctx: CaseContext) => listByApplicant(ctx.db, requirePerson(ctx.caller).sub),
    case: (_: unknown, args: { id: string }, ctx: CaseContext) => visibleCase(ctx, args.id),
    caseQueue: (_: unknown, args: { status: CaseStatus }, ctx: CaseContext) => {
      const c = requireLoggedIn(ctx.caller);
      if (c.kind !== 'staff') throw new AppError('ROLE_REQUIRED', '仅限工作人员 / staff only');
      if (!STATUSES.includes(args.status)) throw new AppError('BAD_INPUT', 'unknown status', { status: 'unknown' });
      return listQueue(ctx.db, c.agency, args.status);
    },
  },
  Mutation: {
    submitCase: async (_: unknown, args: { input: SubmitCaseInput }, ctx: CaseContext) => submitCase(ctx.db, ctx.caller, args.input, ctx.clock.now()),
    acceptCase: staffAction('accept'),
    rejectCase: staffAction('reject'),
    approveCase: staffAction('approve'),
  },
  Case: {
    __resolveReference: (ref: { id: string }, ctx: CaseContext) => visibleCase(ctx, ref.id),
    item: (c: CaseRecord) => ({ __typename: 'Item', id: c.itemId }),
    applicant: (c: CaseRecord) => ({ __typename: 'Account', id: c.applicantId }),
    steps: (c: CaseRecord, _: unknown, ctx: CaseContext) => listSteps(ctx.db, c.id),
  },
};
