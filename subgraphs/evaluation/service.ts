/**
 * The evaluation service (好差评, R-EV-4): records completed cases from the `cases` stream as
 * rateable, takes one rating per case from its applicant, and serves the `evaluation` subgraph.
 */
import { parse } from 'graphql';
import { subgraphSdl } from '../../schema/compose.ts';
import { migrate } from '../../kernel/migrate.ts';
import { serveSubgraph } from '../../kernel/subgraph.ts';
import type { Deps, RunningService, ServiceFactory, StartOptions } from '../../kernel/service.ts';
import { startCaseConsumer } from './consumer.ts';
import { EVALUATION_MIGRATIONS, EVALUATION_SCHEMA } from './migrations.ts';
import { createLoaders, evaluationResolvers, type EvaluationContext } from './resolvers.ts';

export const startEvaluationService: ServiceFactory = async (deps: Deps, opts: StartOptions): Promise<RunningService> => {
  const { db, cache, clock, log } = deps;
  await migrate(db, EVALUATION_SCHEMA, EVALUATION_MIGRATIONS);
  // Nothing to seed: ratings come from people, rateable cases from the case service's events.
  const consumer = await startCaseConsumer({ db, cache, clock, log, concurrency: deps.config.EVENT_CONCURRENCY, maxAttempts: deps.config.EVENT_MAX_ATTEMPTS });
  return serveSubgraph<EvaluationContext>({
    name: 'evaluation', deps, start: opts, background: [consumer],
    typeDefs: parse(subgraphSdl('evaluation')),
    resolvers: evaluationResolvers(db, clock),
    context: () => ({ loaders: createLoaders(db) }),
  });
};
