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
import { loadCalendar, type WorkingCalendar } from '../../kernel/calendar.ts';
import { startDeadlineWatcher, type DeadlineWatcher } from './deadlines/watcher.ts';
import { localLogistics, type Logistics } from './delivery/logistics.ts';
import type { WorkflowEnv } from './workflow/transitions.ts';
import { createNotifier, type Notifier } from '../../kernel/notify.ts';
import { idpContacts, type ApplicantContacts } from './notify/contacts.ts';
import { startNoticeConsumer } from './notify/consumer.ts';
import { mountTracking } from './tracking/routes.ts';
import { mountMaterials } from './materials/routes.ts';
import type { MaterialsEnv } from './materials/materials.ts';
import { localStorage, type MaterialStorage } from './materials/storage.ts';
import { httpLicenceChecker, licenceBase, type LicenceChecker } from './materials/licence-checker.ts';
import { join, resolve } from 'node:path';
import { mergeResolvers, startAppointments, type AppointmentOptions } from './appointments/index.ts';

export interface CaseServiceOptions {
  /** Consumer tuning (tests shorten these). */
  consumer?: { blockMs?: number; claimIdleMs?: number };
  relayIntervalMs?: number;
  /** Working-day calendar (default: the shipped national one plus CASE_HOLIDAYS_FILE). */
  calendar?: WorkingCalendar;
  /** Carrier for results sent by post (default: local tracking numbers). */
  logistics?: Logistics;
  /** The applicant's notices (R-CA-3): default createNotifier (NOTIFY_SINK) and the IdP's account API. */
  notifier?: Notifier;
  contacts?: ApplicantContacts;
  /** Materials (R-CA-1): default a local directory and the licence service's check. */
  storage?: MaterialStorage;
  licenceChecker?: LicenceChecker;
  /** Receives the deadline watcher (tests run its pass by hand after moving the clock). */
  onWatcher?: (w: DeadlineWatcher) => void;
  /** Appointments (R-CA-5): substitutes for tests (directory, notifier, working days, scan interval). */
  appointments?: AppointmentOptions;
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
        materials: i.materials.map((m) => ({ code: m.code, name: m.name, required: m.required, replaceableByLicenceType: m.replaceableByLicenceType ?? null })),
      }, deps.clock.now(), { onlyIfAbsent: true });
    }
  });
}

export function caseServiceFactory(options: CaseServiceOptions = {}): ServiceFactory {
  return async (deps: Deps, opts: StartOptions): Promise<RunningService> => {
    const { db, cache, clock, log } = deps;
    await migrate(db, CASE_SCHEMA, migrations);
    if (opts.seed) await seedReplica(deps);
    const appointments = await startAppointments(deps, { seed: Boolean(opts.seed), ...options.appointments });

    const env: WorkflowEnv = { calendar: options.calendar ?? loadCalendar(deps.config.CASE_HOLIDAYS_FILE), logistics: options.logistics ?? localLogistics };
    const materials: MaterialsEnv = {
      storage: options.storage ?? localStorage(deps.config.CASE_MATERIALS_DIR ?? join(resolve(deps.config.DATA_DIR), 'materials')),
      checker: options.licenceChecker ?? httpLicenceChecker({ baseUrl: licenceBase(deps.config.LICENCE_URL), key: deps.internalKey, clock }),
      maxBytes: deps.config.CASE_MATERIAL_MAX_BYTES, key: deps.internalKey, publicUrl: deps.config.CASE_PUBLIC_URL, clock,
    };
    const relay = startOutboxRelay({ db, cache, schema: CASE_SCHEMA, log, clock, ...(options.relayIntervalMs ? { intervalMs: options.relayIntervalMs } : {}) });
    const runners: Runner[] = [];
    try {
      runners.push(await startConsumer({
        db, cache, log, schema: CASE_SCHEMA, stream: ITEMS_STREAM, group: CONSUMER_GROUP, maxAttempts: deps.config.EVENT_MAX_ATTEMPTS, ...options.consumer,
        handle: (e, q) => handleItemEvent(e, q, clock.now(), log),
      }));
      // Completions of different cases overlap (EVENT_CONCURRENCY); one case's events stay in order.
      runners.push(await startConsumer({
        db, cache, log, schema: CASE_SCHEMA, stream: LICENCES_STREAM, group: CONSUMER_GROUP,
        concurrency: deps.config.EVENT_CONCURRENCY, maxAttempts: deps.config.EVENT_MAX_ATTEMPTS, ...options.consumer,
        wants: (e) => e.type === 'licence.issued',
        handle: (e, q) => handleLicenceEvent(e, q, env, clock.now(), log),
        afterCommit: () => relay.poke(),
      }));
      // R-CA-3: the applicant's notices.
      runners.push(await startNoticeConsumer({
        db, cache, log, consumer: options.consumer,
        concurrency: deps.config.EVENT_CONCURRENCY, maxAttempts: deps.config.EVENT_MAX_ATTEMPTS,
        notifier: options.notifier ?? createNotifier(deps.config, log, clock),
        contacts: options.contacts ?? idpContacts({ baseUrl: deps.config.IDP_INTERNAL_URL, key: deps.internalKey, clock }),
      }));
      // R-CA-8: warnings and accountability records for overdue cases.
      runners.push(startDeadlineWatcher({
        db, clock, calendar: env.calendar, warnDays: deps.config.CASE_WARN_WORKING_DAYS, intervalMs: deps.config.CASE_DEADLINE_SCAN_MS, log,
      }));
      options.onWatcher?.(runners.at(-1) as DeadlineWatcher);
    } catch (e) {
      for (const r of runners) await r.stop();
      await relay.stop();
      await appointments.scheduler.stop();
      throw e;
    }
    return serveSubgraph<CaseContext>({
      name: 'case', deps, start: opts, background: [...runners, relay, appointments.scheduler],
      typeDefs: parse(subgraphSdl('case')), resolvers: mergeResolvers<CaseContext>(resolvers, appointments.resolvers),
      context: () => ({ db, clock, env, key: deps.internalKey, publicUrl: deps.config.CASE_PUBLIC_URL, materials, poke: () => relay.poke() }),
      routes: (router) => {
        mountTracking(router, { db, key: deps.internalKey });
        mountMaterials(router, { db, env: materials });
      },
    });
  };
}

export const startCaseService: ServiceFactory = caseServiceFactory();
