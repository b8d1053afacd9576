/**
 * The item service: the catalogue of service items and agencies (schema `item`), served as the
 * `item` subgraph, announcing every change on the `items` stream through its outbox.
 */
import { parse } from 'graphql';
import { subgraphSdl } from '../../schema/compose.ts';
import { migrate } from '../../kernel/migrate.ts';
import { serveSubgraph } from '../../kernel/subgraph.ts';
import { startConsumer, startOutboxRelay, type Runner } from '../../kernel/events.ts';
import type { Deps, RunningService, ServiceFactory, StartOptions } from '../../kernel/service.ts';
import { ITEM_MIGRATIONS, ITEM_SCHEMA } from './migrations.ts';
import { itemRepository } from './repository.ts';
import { createLoaders, itemResolvers, type ItemContext } from './resolvers.ts';
import { seedItemCatalogue } from './seed.ts';
import { backfillSearchDocs } from './search/index.ts';
import { DEFAULT_TUNING, type SearchTuning } from './search/query.ts';
import { CASES_STREAM, ITEM_CONSUMER_GROUP, CASE_COMPLETED, handleCaseEvent } from './search/popularity.ts';

export { upsertItem, upsertAgency } from './upsert.ts';

export interface ItemService extends RunningService {
  /** Publish pending outbox rows now; resolves with how many were published (tests, start-up). */
  flushOutbox(): Promise<number>;
}

export interface ItemServiceOptions extends StartOptions {
  /** Event consumer timing (tests shorten it). */
  consumer?: { blockMs?: number; claimIdleMs?: number };
  /** Search plan thresholds (tests use small ones to exercise the broad plan). */
  searchTuning?: Partial<SearchTuning>;
}

export async function createItemService(deps: Deps, opts: ItemServiceOptions): Promise<ItemService> {
  const { db, cache, clock, log } = deps;
  await migrate(db, ITEM_SCHEMA, ITEM_MIGRATIONS);
  if (opts.seed) {
    const r = await seedItemCatalogue(db, clock);
    log.info({ agencies: r.agencies, items: r.items }, 'demo catalogue seeded');
  }
  const indexed = await db.tx((q) => backfillSearchDocs(q));
  if (indexed > 0) log.info({ indexed }, 'search index backfilled');
  const relay = startOutboxRelay({ db, cache, schema: ITEM_SCHEMA, log, clock });
  const background: Runner[] = [relay];
  try {
    // Popularity, the hot list and co-occurrence come from completed cases (R-IT-7).
    background.push(await startConsumer({
      db, cache, log, schema: ITEM_SCHEMA, stream: CASES_STREAM, group: ITEM_CONSUMER_GROUP,
      maxAttempts: deps.config.EVENT_MAX_ATTEMPTS, concurrency: deps.config.EVENT_CONCURRENCY,
      ...opts.consumer,
      wants: (e) => e.type === CASE_COMPLETED,
      handle: (e, q) => handleCaseEvent(e, q, log),
    }));
  } catch (e) {
    for (const b of background) await b.stop();
    throw e;
  }
  const repo = itemRepository(db);
  const svc = await serveSubgraph<ItemContext>({
    name: 'item', deps, start: opts, background,
    typeDefs: parse(subgraphSdl('item')),
    resolvers: itemResolvers(repo, db, clock, { ...DEFAULT_TUNING, ...opts.searchTuning }),
    context: () => ({ loaders: createLoaders(repo) }),
  });
  return { ...svc, flushOutbox: () => relay.flush() };
}

export const startItemService: ServiceFactory = createItemService;
