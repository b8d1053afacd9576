/**
 * Resolvers of the item subgraph (schema/item.graphql). Items and agencies are public
 * (R-ID-13): no resolver here looks at the caller. Malformed or unknown ids resolve to null,
 * not to an error, so a stale link or a bad entity reference does not fail a whole query.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { AppError } from '../../kernel/errors.ts';
import { isUuid, type Agency, type Item } from './model.ts';
import type { ItemRepository } from './repository.ts';
import { itemTypeName } from './types.ts';
import type { Db } from '../../kernel/db.ts';
import { catalogueResolvers } from './catalogue-resolvers.ts';
import type { Clock } from '../../kernel/clock.ts';
import { searchResolvers } from './search/resolvers.ts';
import type { SearchTuning } from './search/query.ts';

export const FIRST_MAX = 100;
const KEYWORD_MAX = 100;

export { createLoaders, type ItemContext, type ItemLoaders } from './context.ts';
import type { ItemContext } from './context.ts';


/** Ids are UUIDs; anything else cannot name an item, and must not reach a uuid-typed query. */
const loadItem = (ctx: ItemContext, id: unknown) => (typeof id === 'string' && isUuid(id) ? ctx.loaders.item(id.toLowerCase()) : null);

function searchArgs(keyword: string | null | undefined, first: number | null | undefined): { keyword: string; first: number } {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 1 || n > FIRST_MAX) {
    throw new AppError('BAD_INPUT', `first 须在 1 到 ${FIRST_MAX} 之间 / first must be between 1 and ${FIRST_MAX}`, { first: `1..${FIRST_MAX}` });
  }
  const k = (keyword ?? '').trim();
  if (k.length > KEYWORD_MAX) {
    throw new AppError('BAD_INPUT', `关键词过长 / keyword longer than ${KEYWORD_MAX} characters`, { keyword: `at most ${KEYWORD_MAX} characters` });
  }
  return { keyword: k, first: n };
}

export function itemResolvers(repo: ItemRepository, db: Db, clock: Clock, tuning?: SearchTuning): GraphQLResolverMap<ItemContext> {
  const s = searchResolvers(db, clock, tuning);
  const c = catalogueResolvers(db, clock);
  return {
    Mutation: { ...c.Mutation, ...s.Mutation },
    ItemSubscription: s.ItemSubscription,
    ItemNotification: s.ItemNotification,
    Material: c.Material,
    DirectoryEntry: c.DirectoryEntry,
    ItemSearchEdge: s.ItemSearchEdge,
    HotItem: s.HotItem,
    RelatedItem: s.RelatedItem,
    ServiceObject: s.ServiceObject,
    Theme: s.Theme,
    Query: {
      items: (_: unknown, args: { keyword?: string | null; first?: number | null }) => {
        const a = searchArgs(args.keyword, args.first);
        return repo.search(a.keyword, a.first);
      },
      item: (_: unknown, args: { id: string }, ctx: ItemContext) => loadItem(ctx, args.id),
      agencies: () => repo.agencies(),
      agency: (_: unknown, args: { code: string }, ctx: ItemContext) => ctx.loaders.agency(args.code),
      ...s.Query,
      ...c.Query,
    },
    Item: {
      __resolveReference: (ref: { id: unknown }, ctx: ItemContext) => loadItem(ctx, ref.id),
      typeName: (i: Item) => itemTypeName(i.typeCode),
      ...s.Item,
      ...c.Item,
      agency: async (i: Item, _: unknown, ctx: ItemContext) => {
        const a = await ctx.loaders.agency(i.agencyCode);
        // agency_code is a foreign key: a missing agency is a bug, not a user error.
        if (!a) throw new AppError('INTERNAL', `agency ${i.agencyCode} of item ${i.id} missing`);
        return a;
      },
    },
    Agency: {
      __resolveReference: (ref: { code: unknown }, ctx: ItemContext) => (typeof ref.code === 'string' ? ctx.loaders.agency(ref.code) : null),
      items: (a: Agency, _: unknown, ctx: ItemContext) => ctx.loaders.itemsOfAgency(a.code),
    },
  };
}
