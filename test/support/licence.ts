/**
 * Test fixture for the licence subgraph: a running service on a fresh database and cache with a
 * programmable account directory, helpers to publish `case.approved` as the case service would,
 * and to read what the service published.
 */
import { streamProbe, type StreamProbe } from './streams.ts';
import { eventually as poll } from './eventually.ts';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../kernel/config.ts';
import { internalKey, type Caller } from '../../kernel/internal-auth.ts';
import { silentLogger } from '../../kernel/log.ts';
import { systemClock, type Clock } from '../../kernel/clock.ts';
import type { Deps, RunningService } from '../../kernel/service.ts';
import { DEMO_AGENCIES, DEMO_CITIZEN, DEMO_LICENCE_TYPES, DEMO_STAFF } from '../../kernel/demo.ts';
import { TEST_SECRET, testCache, testDb, type TestDb } from './infra.ts';
import { callSubgraph, type GraphQLResponse } from './subgraph.ts';
import { licenceServiceFactory } from '../../subgraphs/licence/service.ts';
import type { KeyStore } from '../../seal/index.ts';
import type { AccountDirectory, HolderAccount } from '../../subgraphs/licence/directory.ts';

export const HZ_SAMR = DEMO_AGENCIES[1];
export const ZJ_SAMR = DEMO_AGENCIES[0];
export const HOLDER: HolderAccount = { id: DEMO_CITIZEN.id, name: DEMO_CITIZEN.name, idNumber: DEMO_CITIZEN.idNumber };
export const OTHER_HOLDER: HolderAccount = { id: 'c1712e40-0000-4000-8000-000000000002', name: '李四', idNumber: '11010519491231002X' };

export const person = (a: HolderAccount): Caller => ({ kind: 'person', sub: a.id, name: a.name });
export const staffOf = (agency: string): Caller => ({ kind: 'staff', sub: DEMO_STAFF[3]!.id, name: DEMO_STAFF[3]!.name, agency, roles: ['decider'] });

/**
 * An in-memory directory; `failNext` makes the next n lookups fail as an unreachable IdP would.
 * Like the embedded IdP it reads the shared database on each lookup: on PGlite (one transaction
 * at a time) a lookup made inside the consumer's transaction would hang, which `probe` reports.
 */
export class FakeDirectory implements AccountDirectory {
  accounts = new Map<string, HolderAccount>([[HOLDER.id, HOLDER], [OTHER_HOLDER.id, OTHER_HOLDER]]);
  calls = 0;
  failNext = 0;
  insideTransaction = 0;
  probe: (() => Promise<unknown>) | null = null;
  async get(id: string): Promise<HolderAccount> {
    this.calls++;
    if (this.probe) {
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<'hung'>((r) => { timer = setTimeout(() => r('hung'), 1500); });
      if (await Promise.race([this.probe(), hung]) === 'hung') this.insideTransaction++;
      clearTimeout(timer);
    }
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('IdP unreachable (simulated)');
    }
    const a = this.accounts.get(id);
    if (!a) throw new Error('no such account');
    return a;
  }
}

export interface LicenceFixture extends StreamProbe {
  deps: Deps;
  db: TestDb;
  svc: RunningService;
  /** Every instance started (several share one database and consumer group, as replicas would). */
  instances: RunningService[];
  directory: FakeDirectory;
  dataDir: string;
  call<T = Record<string, unknown>>(caller: Caller, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export async function startLicenceFixture(o: {
  instances?: number; clock?: Clock; env?: Record<string, string>; keyStore?: KeyStore;
  /** Listen here (one instance) rather than on a free port: for a LICENCE_PUBLIC_URL other services fetch from. */
  port?: number;
} = {}): Promise<LicenceFixture> {
  const db = await testDb();
  const cache = await testCache();
  const dataDir = mkdtempSync(join(tmpdir(), 'yw-licence-'));
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, ...o.env });
  const deps: Deps = {
    config, secrets: { internalSecret: TEST_SECRET, keyPassphrase: 'test-passphrase-0123456789abcdef-0123', cookieKeys: ['k'] },
    internalKey: internalKey(TEST_SECRET), db, cache, clock: o.clock ?? systemClock, log: silentLogger(),
  };
  const directory = new FakeDirectory();
  directory.probe = () => db.query('select 1');
  const factory = licenceServiceFactory({ directory, consumer: { blockMs: 100, claimIdleMs: 200 }, relayIntervalMs: 50, ...(o.keyStore ? { keyStore: o.keyStore } : {}) });
  // Started together, as replicas of one deployment would be.
  const instances = await Promise.all(Array.from({ length: o.instances ?? 1 }, () => factory(deps, { port: o.port ?? 0 })));
  const svc = instances[0]!;
  return {
    deps, db, svc, instances, directory, dataDir,
    call: (caller, query, variables = {}) => callSubgraph(svc.url, deps.internalKey, caller, query, variables),
    ...streamProbe(cache),
    async close() {
      for (const i of instances) await i.close();
      await cache.close();
      await db.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A `case.approved` payload exactly as the case service emits it. */
export function caseApproved(o: { caseId?: string; holder?: HolderAccount; agency?: { code: string; name: string }; licenceType?: { code: string; name: string } } = {}) {
  const agency = o.agency ?? HZ_SAMR;
  const holder = o.holder ?? HOLDER;
  return {
    caseId: o.caseId ?? randomUUID(), caseNumber: `330100${new Date().toISOString().slice(0, 10).replaceAll('-', '')}000001`,
    itemId: 'b0f7c1f2-0001-4000-8000-000000000001', itemName: '食品经营许可（新办）', agencyCode: agency.code, agencyName: agency.name,
    applicantId: holder.id, applicantName: holder.name, licenceType: o.licenceType ?? DEMO_LICENCE_TYPES.foodBusiness,
    approvedAt: new Date().toISOString(),
  };
}

/** As test/support/eventually.ts, waiting up to 15 s (issuance signs twice per licence). */
export const eventually = <T>(check: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> => poll(check, ms);

export interface StoredLicence { id: string; identifier: string; credential: string; case_id: string; holder_id: string; number: string }

export async function licencesForCase(f: LicenceFixture, caseId: string): Promise<StoredLicence[]> {
  return (await f.db.query<StoredLicence>('select id, identifier, credential, case_id, holder_id, number from licence.licences where case_id = $1', [caseId])).rows;
}

/** Publish `case.approved` and wait for its licence. */
export async function issue(f: LicenceFixture, payload = caseApproved()): Promise<StoredLicence> {
  await f.publish('cases', 'case.approved', payload);
  return eventually(async () => (await licencesForCase(f, payload.caseId))[0]);
}

export const codeOf = (r: GraphQLResponse<unknown>) => r.errors?.[0]?.extensions?.code ?? r.problem?.code;

/**
 * The whole second after a licence's platform timestamp (its genTime), ISO: an invalidity date
 * (RFC 5280 §5.3.2, whole seconds) the licence provably predates.
 */
export function secondAfterTimestamp(jws: string): string {
  const part = (token: string, i: number) => JSON.parse(Buffer.from(token.split('.')[i]!, 'base64url').toString()) as Record<string, unknown>;
  const genTime = part(part(jws, 0).tst as string, 1).genTime as string;
  return new Date(Math.floor(Date.parse(genTime) / 1000) * 1000 + 1000).toISOString();
}
