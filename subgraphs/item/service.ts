/**
 * The item service: the catalogue of service items and agencies (schema `item`), served as the
 * `item` subgraph, announcing every change on the `items` stream through its outbox.
 */
import { parse } from 'graphql';
import { subgraphSdl } from '../../schema/compose.ts';
import { createHttpApp, listen } from '../../kernel/http.ts';
import { migrate } from '../../kernel/migrate.ts';
import { mountSubgraph } from '../../kernel/subgraph.ts';
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
  try {
    const repo = itemRepository(db);
    const { app, router } = createHttpApp({
      name: 'item',
      log,
      health: {
        db: async () => (await db.query('select 1 as ok')).rows.length === 1,
        cache: () => cache.ping(),
      },
    });
    const apollo = await mountSubgraph<ItemContext>(router, {
      name: 'item',
      typeDefs: parse(subgraphSdl('item')),
      resolvers: itemResolvers(repo),
      key: deps.internalKey,
      clock,
      log,
      context: () => ({ loaders: createLoaders(repo) }),
    });
    app.use(router.routes()).use(router.allowedMethods());
    const http = await listen(app, opts.port, opts.host);
    return {
      name: 'item',
      url: http.url,
      flushOutbox: () => relay.flush(),
      async close() {
        await relay.stop();
        await http.close();
        await apollo.stop();
      },
    };
  } catch (e) {
    await relay.stop();
    throw e;
  }
}

export const startItemService: ServiceFactory = createItemService;
