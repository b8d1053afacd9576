/**
 * The evaluation service (好差评, R-EV-1 … R-EV-5): records completed cases from the `cases`
 * stream as rateable, takes one rating per case from its applicant and follows up bad ones,
 * takes complaints, consultations and suggestions (routed with the item replica fed from the
 * `items` stream), supervises their deadlines, ranks the agencies, and serves the `evaluation`
 * subgraph.
 */
import { parse } from 'graphql';
import { subgraphSdl } from '../../schema/compose.ts';
import { migrate } from '../../kernel/migrate.ts';
import { serveSubgraph, type Background } from '../../kernel/subgraph.ts';
import type { Deps, RunningService, ServiceFactory, StartOptions } from '../../kernel/service.ts';
import { loadCalendar } from '../../kernel/calendar.ts';
import { startCaseConsumer, startItemConsumer } from './consumer.ts';
import { startSupervision, type SupervisionLoop } from './supervision.ts';
import { EVALUATION_MIGRATIONS, EVALUATION_SCHEMA } from './migrations.ts';
import { createLoaders, evaluationResolvers, type EvaluationContext } from './resolvers.ts';
import { chatStreams } from './chat-stream.ts';

export interface EvaluationStartOptions extends StartOptions {
  /** Tests drive the supervision loop (late answers, rankings) by hand. */
  onSupervision?: (s: SupervisionLoop) => void;
}

export const startEvaluationService: ServiceFactory = async (deps: Deps, opts: EvaluationStartOptions): Promise<RunningService> => {
  const { db, cache, clock, log } = deps;
  await migrate(db, EVALUATION_SCHEMA, EVALUATION_MIGRATIONS);
  // Nothing to seed: ratings come from people, rateable cases from the case service's events.
  const c = deps.config;
  const calendar = loadCalendar(c.CASE_HOLIDAYS_FILE);
  const consumerOptions = { db, cache, clock, log, concurrency: c.EVENT_CONCURRENCY, maxAttempts: c.EVENT_MAX_ATTEMPTS };
  // R-EV-2: live chat streams (SSE) beside /graphql; stopped with the service.
  const streams = chatStreams({ db, cache, key: deps.internalKey, clock, log });
  const background: Background[] = [streams, await startCaseConsumer(consumerOptions)];
  try {
    background.push(await startItemConsumer(consumerOptions));
    const supervision = startSupervision({
      db, clock, log, intervalMs: c.EVALUATION_SCAN_MS, rankingMinutes: c.EVALUATION_RANKING_MINUTES, rankingWindowDays: c.EVALUATION_RANKING_WINDOW_DAYS,
    });
    background.push(supervision);
    opts.onSupervision?.(supervision);
  } catch (e) {
    for (const b of background) await b.stop();
    throw e;
  }
  return serveSubgraph<EvaluationContext>({
    name: 'evaluation', deps, start: opts, background,
    typeDefs: parse(subgraphSdl('evaluation')),
    routes: (router) => streams.mount(router),
    resolvers: evaluationResolvers(db, clock, {
      chat: { deps: { db, cache, clock, log, calendar, consultationDays: c.EVALUATION_CONSULTATION_WORKING_DAYS }, ticketKey: deps.internalKey },
      calendar, followUpWorkingDays: c.EVALUATION_FOLLOW_UP_WORKING_DAYS,
      feedback: {
        days: { COMPLAINT: c.EVALUATION_COMPLAINT_WORKING_DAYS, CONSULTATION: c.EVALUATION_CONSULTATION_WORKING_DAYS, SUGGESTION: c.EVALUATION_SUGGESTION_WORKING_DAYS },
        operatorAgency: c.EVALUATION_OPERATOR_AGENCY,
      },
    }),
    context: () => ({ loaders: createLoaders(db, clock) }),
  });
};
