/**
 * Test fixture for the case subgraph: a running service on a fresh database and cache, helpers to
 * feed it events as the item and licence services would, and to read what it published.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../kernel/config.ts';
import { internalKey } from '../../kernel/internal-auth.ts';
import { silentLogger } from '../../kernel/log.ts';
import { systemClock, type Clock } from '../../kernel/clock.ts';
import type { Caller } from '../../kernel/internal-auth.ts';
import type { Deps, RunningService } from '../../kernel/service.ts';
import type { StreamMessage } from '../../kernel/cache.ts';
import { DEMO_AGENCIES, DEMO_ITEMS, DEMO_STAFF } from '../../kernel/demo.ts';
import { TEST_SECRET, testCache, testDb, type TestDb } from '../../test/support/infra.ts';
import { callSubgraph, type GraphQLResponse } from '../../test/support/subgraph.ts';
import { caseServiceFactory } from './service.ts';
import { CASES_STREAM, ITEMS_STREAM, LICENCES_STREAM } from './events.ts';

export const HZ = '11330100MB0000002W';        // Hangzhou market supervision (licence items)
export const HZ_HR = '11330100MB00000030';     // Hangzhou HR & social security (item without licence)
export const FOOD_ITEM = DEMO_ITEMS[0]!;        // licence type: food business licence
export const HR_ITEM = DEMO_ITEMS[2]!;          // no licence type

export const citizen = (n = 1): Caller => ({ kind: 'person', sub: `c1712e40-0000-4000-8000-${String(n).padStart(12, '0')}`, name: `申请人${n}` });
const demo = (role: string) => DEMO_STAFF.find((s) => s.roles.includes(role as never))!;
export const staff = (role: 'receiver' | 'acceptor' | 'reviewer' | 'decider', agency = HZ): Caller => ({
  kind: 'staff', sub: demo(role).id, name: demo(role).name, agency, roles: [role],
});

export interface CaseFixture {
  deps: Deps;
  db: TestDb;
  svc: RunningService;
  call<T = Record<string, unknown>>(caller: Caller, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  /** Publish an event to a stream the way another service's outbox relay would. */
  publish(stream: string, type: string, payload: Record<string, unknown>, id?: string): Promise<string>;
  /** Every message on a stream so far (a private consumer group reads from the start). */
  read(stream: string): Promise<StreamMessage[]>;
  close(): Promise<void>;
}

export async function startCaseFixture(clock: Clock = systemClock): Promise<CaseFixture> {
  const db = await testDb();
  const cache = await testCache();
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  const deps: Deps = {
    config, secrets: { internalSecret: TEST_SECRET, keyPassphrase: 'test-passphrase-0123456789abcdef-0123', cookieKeys: ['k'] },
    internalKey: internalKey(TEST_SECRET), db, cache, clock, log: silentLogger(),
  };
  const svc = await caseServiceFactory({ consumer: { blockMs: 100, claimIdleMs: 200 }, relayIntervalMs: 50 })(deps, { port: 0 });
  const readers = new Map<string, string>();
  const fixture: CaseFixture = {
    deps, db, svc,
    call: (caller, query, variables = {}) => callSubgraph(svc.url, deps.internalKey, caller, query, variables),
    async publish(stream, type, payload, id = randomUUID()) {
      await cache.xAdd(stream, { id, type, occurredAt: new Date().toISOString(), payload: JSON.stringify(payload) });
      return id;
    },
    async read(stream) {
      let group = readers.get(stream);
      if (!group) {
        group = `test-${randomUUID().slice(0, 8)}`;
        readers.set(stream, group);
        await cache.xGroupCreate(stream, group);
      }
      const out: StreamMessage[] = [];
      for (;;) {
        const batch = await cache.xReadGroup(stream, group, 'reader', { count: 100, blockMs: 1 });
        out.push(...batch);
        if (batch.length < 100) return out;
      }
    },
    async close() {
      await svc.close();
      await cache.close();
      await db.destroy();
    },
  };
  return fixture;
}

/** The `item.upserted` payload the item service would publish for a demo item. */
export function itemPayload(item = FOOD_ITEM, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: item.id, name: item.name, agencyCode: item.agencyCode,
    agencyName: DEMO_AGENCIES.find((a) => a.code === item.agencyCode)?.name ?? item.agencyCode,
    typeCode: item.typeCode, caseType: item.caseType, legalTimeLimit: item.legalTimeLimit, promisedTimeLimit: item.promisedTimeLimit,
    licenceType: item.licenceType, ...overrides,
  };
}

/** Poll until `check` holds (events are asynchronous); fails the test after `ms`. */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Publish the demo items and wait until the replica has them. */
export async function feedItems(f: CaseFixture, items = [FOOD_ITEM, HR_ITEM]): Promise<void> {
  for (const i of items) await f.publish(ITEMS_STREAM, 'item.upserted', itemPayload(i));
  await eventually(async () => {
    const { rows } = await f.db.query<{ n: number }>('select count(*)::int as n from cases.items where id = any($1::text[])', [items.map((i) => i.id)]);
    return rows[0]!.n === items.length;
  });
}

export const CASE_FIELDS = `id caseNumber status outcomeCode version agencyCode applicantName submittedAt updatedAt
  item { id } applicant { id } steps { action status handlerId handlerName opinion at }`;

export const SUBMIT = `mutation ($input: SubmitCaseInput!) { submitCase(input: $input) { ${CASE_FIELDS} } }`;
export const ACCEPT = `mutation ($id: ID!, $opinion: String, $version: Int) { acceptCase(id: $id, opinion: $opinion, version: $version) { ${CASE_FIELDS} } }`;
export const REJECT = `mutation ($id: ID!, $reason: String!, $version: Int) { rejectCase(id: $id, reason: $reason, version: $version) { ${CASE_FIELDS} } }`;
export const APPROVE = `mutation ($id: ID!, $opinion: String, $version: Int) { approveCase(id: $id, opinion: $opinion, version: $version) { ${CASE_FIELDS} } }`;

export interface CaseView {
  id: string; caseNumber: string; status: string; outcomeCode: string | null; version: number; agencyCode: string;
  steps: Array<{ action: string; status: string; handlerId: string | null; handlerName: string | null; opinion: string | null; at: string }>;
}

export async function submit(f: CaseFixture, caller: Caller, input: Record<string, unknown>): Promise<CaseView> {
  const r = await f.call<{ submitCase: CaseView }>(caller, SUBMIT, { input });
  if (!r.data?.submitCase) throw new Error(`submit failed: ${JSON.stringify(r.errors ?? r.problem)}`);
  return r.data.submitCase;
}

export async function act(f: CaseFixture, caller: Caller, mutation: string, variables: Record<string, unknown>): Promise<CaseView> {
  const r = await f.call<Record<string, CaseView>>(caller, mutation, variables);
  const out = r.data ? Object.values(r.data)[0] : undefined;
  if (!out) throw new Error(`action failed: ${JSON.stringify(r.errors ?? r.problem)}`);
  return out;
}

export const codeOf = (r: GraphQLResponse<unknown>) => r.errors?.[0]?.extensions?.code ?? r.problem?.code;

export { CASES_STREAM, ITEMS_STREAM, LICENCES_STREAM };
