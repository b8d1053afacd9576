/**
 * Resolvers for schema/licence.graphql. A licence is seen by its holder (R-LI-4: holders show
 * their licences at any time) and by staff of the issuing agency; anyone else gets null or
 * nothing, as if it did not exist. The ID number is shown masked (R-ID-11); the full number is
 * only inside the signed credential, which the holder needs in order to present it.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import type { Db } from '../../kernel/db.ts';
import { requirePerson, type Caller } from '../../kernel/internal-auth.ts';
import type { SubgraphContext } from '../../kernel/subgraph.ts';
import { findLicence, listByCase, listByHolder, type LicenceRecord } from './repository.ts';

export interface LicenceContext extends SubgraphContext {
  db: Db;
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
  },
  Licence: {
    __resolveReference: (ref: { id: string }, ctx: LicenceContext) => visible(ctx, ref.id),
  },
  Case: {
    licences: async (c: { id: string }, _: unknown, ctx: LicenceContext) =>
      (await listByCase(ctx.db, c.id)).filter((l) => canSeeLicence(ctx.caller, l)),
  },
};
