/**
 * Resolvers for schema/licence.graphql. A licence is seen by its holder (R-LI-4: holders show
 * their licences at any time) and by staff of the issuing agency; anyone else gets null or
 * nothing, as if it did not exist. The ID number is shown masked (R-ID-11); the full number is
 * only inside the signed credential, which the holder needs in order to present it.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { linkUrl, SHARE_MINUTES, signLink, VIEW_MINUTES } from './links.ts';
import { AppError } from '../../kernel/errors.ts';
import { requirePerson, requireStaffRole, type Caller } from '../../kernel/internal-auth.ts';
import { findLicence, listByCase, listByHolder, type LicenceRecord } from './repository.ts';
import { changeStatus, stateOf, statusHistory, type StatusAction } from './status.ts';
import { sealMutations, sealQueries } from './seal-resolvers.ts';
import type { LicenceContext } from './context.ts';

export type { LicenceContext } from './context.ts';

/**
 * Revoke, suspend, reinstate (R-LI-4: verifiers see the status): deciders of the issuing agency only (the
 * agency that sealed it answers for it); the change and its audit row in one transaction.
 */
function statusMutation(action: StatusAction) {
  return async (_: unknown, args: { id: string; reason: string }, ctx: LicenceContext) => {
    const l = await findLicence(ctx.db, args.id);
    if (!l) throw new AppError('NOT_FOUND', '没有该证照 / no such licence');
    const staff = requireStaffRole(ctx.caller, l.issuerCode, 'decider');
    await ctx.db.tx((q) => changeStatus(q, { licenceId: l.id, action, reason: args.reason, actor: { id: staff.sub, name: staff.name, agency: staff.agency } }, ctx.clock.now()));
    return l;
  };
}

export function canSeeLicence(caller: Caller, l: LicenceRecord): boolean {
  if (caller.kind === 'person') return l.holderId === caller.sub;
  if (caller.kind === 'staff') return l.issuerCode === caller.agency;
  return false;
}

async function visible(ctx: LicenceContext, id: string): Promise<LicenceRecord | null> {
  const l = await findLicence(ctx.db, id);
  return l && canSeeLicence(ctx.caller, l) ? l : null;
}

export const resolvers: GraphQLResolverMap<LicenceContext> = {
  Query: {
    myLicences: (_: unknown, __: unknown, ctx: LicenceContext) => listByHolder(ctx.db, requirePerson(ctx.caller).sub),
    licence: (_: unknown, args: { id: string }, ctx: LicenceContext) => visible(ctx, args.id),
    ...sealQueries,
  },
  Mutation: {
    revokeLicence: statusMutation('revoke'),
    suspendLicence: statusMutation('suspend'),
    reinstateLicence: statusMutation('reinstate'),
    shareLicence: async (_: unknown, args: { id: string; minutes?: number | null }, ctx: LicenceContext) => {
      const me = requirePerson(ctx.caller);
      const l = await findLicence(ctx.db, args.id);
      if (!l || l.holderId !== me.sub) throw new AppError('NOT_FOUND', '没有该证照 / no such licence');
      const minutes = args.minutes ?? SHARE_MINUTES.default;
      if (!Number.isInteger(minutes) || minutes < SHARE_MINUTES.min || minutes > SHARE_MINUTES.max) {
        throw new AppError('BAD_INPUT', `分享时长须为 ${SHARE_MINUTES.min}-${SHARE_MINUTES.max} 分钟 / minutes must be ${SHARE_MINUTES.min}-${SHARE_MINUTES.max}`, { field: 'minutes' });
      }
      const link = await signLink(ctx.linkKey, { licenceId: l.id, purpose: 'share', minutes, now: ctx.clock.now() });
      return { url: linkUrl(ctx.statusBase, link.token), expiresAt: link.expiresAt.toISOString() };
    },
    ...sealMutations,
  },
  Licence: {
    __resolveReference: (ref: { id: string }, ctx: LicenceContext) => visible(ctx, ref.id),
    viewUrl: async (l: LicenceRecord, _: unknown, ctx: LicenceContext) => {
      // The holder's own page; staff of the issuing agency see the licence in their own tools.
      if (ctx.caller.kind !== 'person' || ctx.caller.sub !== l.holderId) return null;
      const link = await signLink(ctx.linkKey, { licenceId: l.id, purpose: 'view', minutes: VIEW_MINUTES, now: ctx.clock.now() });
      return linkUrl(ctx.statusBase, link.token);
    },
    state: async (l: LicenceRecord, _: unknown, ctx: LicenceContext) => (await stateOf(ctx.db, l.id)).state.toUpperCase(),
    stateReason: async (l: LicenceRecord, _: unknown, ctx: LicenceContext) => (await stateOf(ctx.db, l.id)).reason,
    statusHistory: async (l: LicenceRecord, _: unknown, ctx: LicenceContext) =>
      (await statusHistory(ctx.db, l.id)).map((h) => ({ ...h, action: h.action.toUpperCase() })),
  },
  Case: {
    licences: async (c: { id: string }, _: unknown, ctx: LicenceContext) =>
      (await listByCase(ctx.db, c.id)).filter((l) => canSeeLicence(ctx.caller, l)),
  },
};
