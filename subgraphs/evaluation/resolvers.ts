/**
 * Resolvers of the evaluation subgraph (schema/evaluation.graphql): the `rateCase` mutation,
 * `Case.evaluation` (visible to the applicant and the case's agency only) and the public
 * `Item.satisfaction`. Levels leave through the level table (label, gbCode, score).
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import type { Clock } from '../../kernel/clock.ts';
import type { Db } from '../../kernel/db.ts';
import type { SubgraphContext } from '../../kernel/subgraph.ts';
import { levelInfo } from './levels.ts';
import { batchLoader, type Load } from '../../kernel/loader.ts';
import { rateCase } from './rate.ts';
import { evaluationsByCaseIds, evaluationsByIds, levelCountsByItems, type EvaluationRecord } from './repository.ts';
import { summarise, type Satisfaction } from './satisfaction.ts';
import { canSeeEvaluation } from './visibility.ts';

export interface EvaluationLoaders {
  byCase: Load<string, EvaluationRecord | null>;
  byId: Load<string, EvaluationRecord | null>;
  satisfaction: Load<string, Satisfaction>;
}

export interface EvaluationContext extends SubgraphContext {
  loaders: EvaluationLoaders;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createLoaders(db: Db): EvaluationLoaders {
  return {
    byCase: batchLoader(async (ids) => new Map((await evaluationsByCaseIds(db, ids)).map((e) => [e.caseId, e])), null),
    byId: batchLoader(async (ids) => new Map((await evaluationsByIds(db, ids)).map((e) => [e.id, e])), null),
    satisfaction: batchLoader(async (itemIds) => {
      const rows = await levelCountsByItems(db, itemIds);
      return new Map(itemIds.map((id) => [id, summarise(rows.filter((r) => r.itemId === id))]));
    }, { average: null, count: 0 }),
  };
}

/** The GraphQL shape of a rating: the stored level mapped through the level table. */
function toGraph(e: EvaluationRecord) {
  const l = levelInfo(e.level);
  return {
    id: e.id, caseId: e.caseId, level: l.level, label: l.label, gbCode: l.gbCode, score: l.score,
    reason: e.reason, channel: e.channel, createdAt: e.createdAt.toISOString(),
  };
}

const visible = (ctx: EvaluationContext, e: EvaluationRecord | null) => (e && canSeeEvaluation(ctx.caller, e) ? toGraph(e) : null);

export function evaluationResolvers(db: Db, clock: Clock): GraphQLResolverMap<EvaluationContext> {
  return {
    Mutation: {
      rateCase: async (_: unknown, args: { caseId: string; level: string; reason?: string | null; channel?: number | null }, ctx: EvaluationContext) =>
        toGraph(await rateCase(db, clock, ctx.caller, args)),
    },
    Evaluation: {
      __resolveReference: async (ref: { id: unknown }, ctx: EvaluationContext) =>
        (typeof ref.id === 'string' && UUID.test(ref.id) ? visible(ctx, await ctx.loaders.byId(ref.id.toLowerCase())) : null),
    },
    Case: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      evaluation: async (c: { id: string }, _: unknown, ctx: EvaluationContext) => visible(ctx, await ctx.loaders.byCase(String(c.id))),
    },
    Item: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      satisfaction: (i: { id: string }, _: unknown, ctx: EvaluationContext) => ctx.loaders.satisfaction(String(i.id)),
    },
  };
}
