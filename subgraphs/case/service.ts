/**
 * The case subgraph (办件): migrations, the item replica and licence consumers, the outbox relay
 * for `cases` events, and `/graphql` on the shared HTTP shell.
 */
import { parse } from 'graphql';
import { subgraphSdl } from '../../schema/compose.ts';
import { migrate } from '../../kernel/migrate.ts';
import { serveSubgraph } from '../../kernel/subgraph.ts';
import { startConsumer, startOutboxRelay, type Runner } from '../../kernel/events.ts';
import { DEMO_AGENCIES, DEMO_ITEMS } from '../../kernel/demo.ts';
import type { Deps, RunningService, ServiceFactory, StartOptions } from '../../kernel/service.ts';
import { CASE_SCHEMA, migrations } from './migrations.ts';
import { CONSUMER_GROUP, ITEMS_STREAM, LICENCES_STREAM } from './events.ts';
import { handleItemEvent, handleLicenceEvent } from './consumers.ts';
import { upsertItem } from './repository.ts';
import { resolvers, type CaseContext } from './resolvers.ts';

export interface CaseServiceOptions {
  /** Consumer tuning (tests shorten these). */
  consumer?: { blockMs?: number; claimIdleMs?: number };
  relayIntervalMs?: number;
}

/**
 * Demo items in the replica at once, so a seeded platform accepts applications before the item
 * service's events arrive. Inserted only when absent: events carry the fresher truth.
 */
export async function seedReplica(deps: Deps): Promise<void> {
  const agencyName = new Map<string, string>(DEMO_AGENCIES.map((a) => [a.code, a.name]));
  await deps.db.tx(async (q) => {
    for (const i of DEMO_ITEMS) {
      await upsertItem(q, {
        id: i.id, name: i.name, agencyCode: i.agencyCode, agencyName: agencyName.get(i.agencyCode) ?? i.agencyCode,
        typeCode: i.typeCode, caseType: i.caseType, legalTimeLimit: i.legalTimeLimit, promisedTimeLimit: i.promisedTimeLimit,
        licenceType: i.licenceType,
      }, deps.clock.now(), { onlyIfAbsent: true });
    }
  });
}

export function caseServiceFactory(options: CaseServiceOptions = {}): ServiceFactory {
  return async (deps: Deps, opts: StartOptions): Promise<RunningService> => {
    const { db, cache, clock, log } = deps;
    await migrate(db, CASE_SCHEMA, migrations);
    if (opts.seed) await seedReplica(deps);

    const relay = startOutboxRelay({ db, cache, schema: CASE_SCHEMA, log, clock, ...(options.relayIntervalMs ? { intervalMs: options.relayIntervalMs } : {}) });
    const runners: Runner[] = [];
    try {
      runners.push(await startConsumer({
        db, cache, log, schema: CASE_SCHEMA, stream: ITEMS_STREAM, group: CONSUMER_GROUP, ...options.consumer,
        handle: (e, q) => handleItemEvent(e, q, clock.now(), log),
      }));
      runners.push(await startConsumer({
        db, cache, log, schema: CASE_SCHEMA, stream: LICENCES_STREAM, group: CONSUMER_GROUP, ...options.consumer,
        handle: (e, q) => handleLicenceEvent(e, q, clock.now(), log),
        afterCommit: () => relay.poke(),
      }));
    } catch (e) {
      for (const r of runners) await r.stop();
      await relay.stop();
      throw e;
    }
    return serveSubgraph<CaseContext>({
      name: 'case', deps, start: opts, background: [...runners, relay],
      typeDefs: parse(subgraphSdl('case')), resolvers,
      context: () => ({ db, clock, poke: () => relay.poke() }),
    });
  };
}

export const startCaseService: ServiceFactory = caseServiceFactory();
