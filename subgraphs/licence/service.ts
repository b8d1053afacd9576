/**
 * The licence subgraph (电子证照): the seal trust hierarchy, the `case.approved` consumer that
 * issues sealed licences, the outbox relay for `licence.issued`, `/graphql`, the public
 * `GET /trust-bundle.pem`, status lists, `POST /verify` and the verify page, the internal
 * licence check for the case service, and seal administration (requests for an outside CA,
 * installation, revocation: ./seal-admin.ts; the outside CA's CRLs: ./crl-import.ts), and, in a
 * federation, the members whose licences it recognises (./federation-members.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'graphql';
import { subgraphSdl } from '../../schema/compose.ts';
import { migrate } from '../../kernel/migrate.ts';
import { serveSubgraph } from '../../kernel/subgraph.ts';
import { failedForNow, startConsumer, startOutboxRelay, type Runner } from '../../kernel/events.ts';
import type { Deps, RunningService, ServiceFactory, StartOptions } from '../../kernel/service.ts';
import { LICENCE_SCHEMA, migrations } from './migrations.ts';
import { createTrustStore, installConfiguredCa, readConfiguredAnchors, sealCaSubject } from './trust.ts';
import type { SealAdmin } from './seal-admin.ts';
import { createCrlImports } from './crl-import.ts';
import type { KeyStore } from '../../seal/index.ts';
import { idpAccountDirectory, type AccountDirectory } from './directory.ts';
import { handleCaseEvent, prepareCaseEvent } from './issue.ts';
import { mountLicenceRoutes } from './http-routes.ts';
import { resolvers, type LicenceContext } from './resolvers.ts';
import { serviceStatusLists } from './status.ts';
import { federationMembers } from './federation-members.ts';
import { createVerify } from './verify-answer.ts';
import { mountInternalCheck } from './internal-check.ts';
import { mountPresentationRoutes } from './presentation-routes.ts';

export const CASES_STREAM = 'cases';
export const CONSUMER_GROUP = 'licence';
export const TRUST_BUNDLE_FILE = 'trust-bundle.pem';

export interface LicenceServiceOptions {
  /** Where holders' names and ID numbers come from; default: the IdP's internal account API. */
  directory?: AccountDirectory;
  /** Consumer tuning (tests shorten these; claimIdleMs is how soon a failed event is retried). */
  consumer?: { blockMs?: number; claimIdleMs?: number };
  relayIntervalMs?: number;
  /** Where private keys live; default: encrypted in the database under KEY_PASSPHRASE. An HSM or KMS adapter goes here. */
  keyStore?: KeyStore;
}

export function licenceServiceFactory(options: LicenceServiceOptions = {}): ServiceFactory {
  return async (deps: Deps, opts: StartOptions): Promise<RunningService> => {
    const { db, cache, clock, log, config } = deps;
    await migrate(db, LICENCE_SCHEMA, migrations);
    const externalAnchors = readConfiguredAnchors(config.LICENCE_TRUST_ANCHORS);
    const trust = createTrustStore({
      db, passphrase: deps.secrets.keyPassphrase, clock, keyStore: options.keyStore, crlBase: config.LICENCE_PUBLIC_URL,
      mode: config.LICENCE_SEAL_MODE, externalAnchors, caSubject: sealCaSubject(config),
    });
    const anchorsPem = await trust.ensureHierarchy();
    await installConfiguredCa(trust, config);
    // Embedded set-up: the CLI verifies against this file (nothing secret in it).
    if (!config.DATABASE_URL) {
      const dir = resolve(config.DATA_DIR);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, TRUST_BUNDLE_FILE), anchorsPem.join(''));
    }
    const statusBase = config.LICENCE_PUBLIC_URL;
    const statusTtlMs = config.STATUS_LIST_TTL_SECONDS * 1000;
    // A platform of a federation recognises the licences of its members only (R-LI-3).
    const members = federationMembers({ config, clock, cache });
    const statusLists = serviceStatusLists({
      db, trust, base: statusBase, ttlMs: statusTtlMs, now: () => clock.now(), members, refreshMs: config.LICENCE_STATUS_REFRESH_SECONDS * 1000,
    });
    const crls = createCrlImports({ db, publicBase: statusBase, externalAnchorsPem: externalAnchors });
    const verify = createVerify({ db, anchorsPem, trust, clock, statusLists, crls: (q) => crls.current(q), publicBase: statusBase, federated: members !== null });
    const sealAdmin: SealAdmin = { db, trust, clock, anchorsPem, crls, operatorAgency: config.LICENCE_OPERATOR_AGENCY, publicBase: statusBase };
    const directory = options.directory ?? idpAccountDirectory({ baseUrl: config.IDP_INTERNAL_URL, key: deps.internalKey, clock });

    const relay = startOutboxRelay({ db, cache, schema: LICENCE_SCHEMA, log, clock, ...(options.relayIntervalMs ? { intervalMs: options.relayIntervalMs } : {}) });
    const runners: Runner[] = [];
    try {
      runners.push(await startConsumer({
        // The IdP lookup runs before the transaction, never inside one (see ConsumerOptions.prepare).
        db, cache, log, schema: LICENCE_SCHEMA, stream: CASES_STREAM, group: CONSUMER_GROUP,
        concurrency: config.EVENT_CONCURRENCY, maxAttempts: config.EVENT_MAX_ATTEMPTS, ...options.consumer,
        wants: (e) => e.type === 'case.approved',
        // An agency without a seal yet (external mode: until one is installed) waits, however long.
        notYet: (e) => failedForNow(e, ['SERVICE_UNAVAILABLE', 'SEAL_NOT_FOUND']),
        prepare: (e) => prepareCaseEvent(e, directory),
        handle: async (e, q, holder) => { await handleCaseEvent(e, q, clock.now(), { trust, log, statusBase: config.LICENCE_PUBLIC_URL }, holder); },
        afterCommit: () => relay.poke(),
      }));
    } catch (e) {
      for (const r of runners) await r.stop();
      await relay.stop();
      throw e;
    }
    return serveSubgraph<LicenceContext>({
      name: 'licence', deps, start: opts, background: [...runners, relay],
      typeDefs: parse(subgraphSdl('licence')), resolvers,
      routes: (router) => {
        mountLicenceRoutes(router, { anchorsPem, trust, crls, clock, db, verify, statusBase, statusTtlMs });
        mountInternalCheck(router, { db, key: deps.internalKey, clock, verify });
        mountPresentationRoutes(router, { db, key: deps.internalKey, clock, verify, publicBase: statusBase });
      },
      context: () => ({ db, trust, clock, statusBase, statusTtlMs, linkKey: deps.internalKey, sealAdmin }),
    });
  };
}

export const startLicenceService: ServiceFactory = licenceServiceFactory();
