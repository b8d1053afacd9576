/**
 * The item service: the catalogue of service items and agencies (schema `item`), served as the
 * `item` subgraph, announcing every change on the `items` stream through its outbox.
 */
import { parse } from 'graphql';
import { subgraphSdl } from '../../schema/compose.ts';
import { migrate } from '../../kernel/migrate.ts';
import { serveSubgraph } from '../../kernel/subgraph.ts';
import { startOutboxRelay } from '../../kernel/events.ts';
import type { Deps, RunningService, ServiceFactory, StartOptions } from '../../kernel/service.ts';
import { ITEM_MIGRATIONS, ITEM_SCHEMA } from './migrations.ts';
import { itemRepository } from './repository.ts';
import { createLoaders, itemResolvers, type ItemContext } from './resolvers.ts';
import { seedItemCatalogue } from './seed.ts';

export { upsertItem, upsertAgency } from './upsert.ts';

export interface ItemService extends RunningService {
  /** Publish pending outbox rows now; resolves with how many were published (tests, start-up). */
  flushOutbox(): Promise<number>;
}

export async function createItemService(deps: Deps, opts: StartOptions): Promise<ItemService> {
  const { db, cache, clock, log } = deps;
  await migrate(db, ITEM_SCHEMA, ITEM_MIGRATIONS);
  if (opts.seed) {
    const r = await seedItemCatalogue(db, clock);
    log.info({ agencies: r.agencies, items: r.items }, 'demo catalogue seeded');
  }
  const relay = startOutboxRelay({ db, cache, schema: ITEM_SCHEMA, log, clock });
  const repo = itemRepository(db);
  const svc = await serveSubgraph<ItemContext>({
    name: 'item', deps, start: opts, background: [relay],
    typeDefs: parse(subgraphSdl('item')),
    resolvers: itemResolvers(repo),
    context: () => ({ loaders: createLoaders(repo) }),
  });
  return { ...svc, flushOutbox: () => relay.flush() };
}

export const startItemService: ServiceFactory = createItemService;
