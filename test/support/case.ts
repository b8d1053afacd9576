/**
 * Test fixture for the case subgraph: a running service on a fresh database and cache, helpers to
 * feed it events as the item and licence services would, and to read what it published.
 */
import { streamProbe, type StreamProbe } from './streams.ts';
import { loadConfig } from '../../kernel/config.ts';
import { internalKey } from '../../kernel/internal-auth.ts';
import { silentLogger } from '../../kernel/log.ts';
import { systemClock, type Clock } from '../../kernel/clock.ts';
import type { Caller } from '../../kernel/internal-auth.ts';
import type { Deps, RunningService } from '../../kernel/service.ts';
import type { Notice } from '../../kernel/notify.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localStorage } from '../../subgraphs/case/materials/storage.ts';
import { DEMO_AGENCIES, DEMO_ITEMS, DEMO_STAFF } from '../../kernel/demo.ts';
import { TEST_SECRET, testCache, testDb, type TestDb } from './infra.ts';
import { callSubgraph, type GraphQLResponse } from './subgraph.ts';
import { caseServiceFactory, type CaseServiceOptions } from '../../subgraphs/case/service.ts';
import { CASES_STREAM, ITEMS_STREAM, LICENCES_STREAM } from '../../subgraphs/case/events.ts';

export const HZ = '11330100MB0000002W';        // Hangzhou market supervision (licence items)
export const HZ_HR = '11330100MB00000030';     // Hangzhou HR & social security (item without licence)
export const FOOD_ITEM = DEMO_ITEMS[0]!;        // licence type: food business licence
export const HR_ITEM = DEMO_ITEMS[2]!;          // no licence type
export const DEMO_ITEM_2 = DEMO_ITEMS[1]!;      // business licence, same agency as FOOD_ITEM

export const citizen = (n = 1): Caller => ({ kind: 'person', sub: `c1712e40-0000-4000-8000-${String(n).padStart(12, '0')}`, name: `申请人${n}` });
const demo = (role: string) => DEMO_STAFF.find((s) => s.roles.includes(role as never))!;
export const staff = (role: 'receiver' | 'acceptor' | 'reviewer' | 'decider', agency = HZ): Caller => ({
  kind: 'staff', sub: demo(role).id, name: demo(role).name, agency, roles: [role],
});

/** `publish`: an event as another service's outbox relay writes it; `read`: every message on a stream so far. */
export interface CaseFixture extends StreamProbe {
  deps: Deps;
  db: TestDb;
  svc: RunningService;
  call<T = Record<string, unknown>>(caller: Caller, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  /** Notices sent to applicants (R-CA-3), in order; every applicant's mobile is MOBILE unless the test injects contacts. */
  notices: Notice[];
  close(): Promise<void>;
}

export const MOBILE = '13800138000';

export async function startCaseFixture(clock: Clock = systemClock, options: CaseServiceOptions = {}): Promise<CaseFixture> {
  const db = await testDb();
  const cache = await testCache();
  // Deadline scans run by hand (watcher.tick) after moving the clock, never behind a test's back.
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', CASE_DEADLINE_SCAN_MS: '3600000' });
  const deps: Deps = {
    config, secrets: { internalSecret: TEST_SECRET, keyPassphrase: 'test-passphrase-0123456789abcdef-0123', cookieKeys: ['k'] },
    internalKey: internalKey(TEST_SECRET), db, cache, clock, log: silentLogger(),
  };
  const notices: Notice[] = [];
  const svc = await caseServiceFactory({
    consumer: { blockMs: 100, claimIdleMs: 200 }, relayIntervalMs: 50,
    notifier: { send: async (n) => { notices.push(n); } }, contacts: { mobileOf: async () => MOBILE },
    storage: localStorage(mkdtempSync(join(tmpdir(), 'yw-materials-'))),
    licenceChecker: { check: async () => ({ ok: false, reason: 'NOT_FOUND', message: 'no such licence', licence: null }) },
    ...options,
  })(deps, { port: 0 });
  const fixture: CaseFixture = {
    deps, db, svc, notices,
    call: (caller, query, variables = {}) => callSubgraph(svc.url, deps.internalKey, caller, query, variables),
    ...streamProbe(cache),
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
    licenceType: item.licenceType,
    materials: item.materials.map((m) => ({ code: m.code, name: m.name, required: m.required, replaceableByLicenceType: m.replaceableByLicenceType ?? null })),
    ...overrides,
  };
}

import { eventually } from './eventually.ts';
export { eventually };

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

/** Every field of a case (workflow, visits, supplement, clock, delivery, parallel approval). */
export const CASE_FIELDS_FULL = `${CASE_FIELDS.replace('opinion at', 'opinion details at')} workflowId availableActions mode visits maxVisits
  supplementMaterials deadlineAt pausedAt warnedAt extensionDays extensionRequested coAgencies pendingApprovals
  delivery { method carrier trackingNumber at } accountability { kind state deadlineAt }`;
export const CASE_ACTION = `mutation ($id: ID!, $action: String!, $opinion: String, $version: Int, $input: CaseActionInput, $idempotencyKey: String) {
  caseAction(id: $id, action: $action, opinion: $opinion, version: $version, input: $input, idempotencyKey: $idempotencyKey) { ${CASE_FIELDS_FULL} } }`;
export const SUBMIT_FULL = `mutation ($input: SubmitCaseInput!) { submitCase(input: $input) { ${CASE_FIELDS_FULL} } }`;

export const SUBMIT = `mutation ($input: SubmitCaseInput!) { submitCase(input: $input) { ${CASE_FIELDS} } }`;
export const ACCEPT = `mutation ($id: ID!, $opinion: String, $version: Int) { acceptCase(id: $id, opinion: $opinion, version: $version) { ${CASE_FIELDS} } }`;
export const REJECT = `mutation ($id: ID!, $reason: String!, $version: Int) { rejectCase(id: $id, reason: $reason, version: $version) { ${CASE_FIELDS} } }`;
export const APPROVE = `mutation ($id: ID!, $opinion: String, $version: Int) { approveCase(id: $id, opinion: $opinion, version: $version) { ${CASE_FIELDS} } }`;

export interface CaseView {
  id: string; caseNumber: string; status: string; outcomeCode: string | null; version: number; agencyCode: string;
  steps: Array<{ action: string; status: string; handlerId: string | null; handlerName: string | null; opinion: string | null; details?: string | null; at: string }>;
  workflowId?: string; availableActions?: string[]; mode?: string; visits?: number; maxVisits?: number;
  supplementMaterials?: string[] | null; deadlineAt?: string | null; pausedAt?: string | null; warnedAt?: string | null;
  extensionDays?: number; extensionRequested?: number | null; coAgencies?: string[]; pendingApprovals?: string[];
  delivery?: { method: string; carrier: string | null; trackingNumber: string | null; at: string } | null;
  accountability?: Array<{ kind: string; state: string; deadlineAt: string }>;
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

/** caseAction as `caller`; returns the raw response (tests read codes) and the case when it worked. */
export async function caseAction(
  f: CaseFixture, caller: Caller, id: string, action: string, extra: { opinion?: string; version?: number; input?: Record<string, unknown>; idempotencyKey?: string } = {},
): Promise<{ code: string | undefined; case: CaseView | undefined }> {
  const r = await f.call<{ caseAction: CaseView }>(caller, CASE_ACTION, { id, action, ...extra });
  return { code: codeOf(r), case: r.data?.caseAction ?? undefined };
}

/** caseAction that must succeed. */
export async function must(f: CaseFixture, caller: Caller, id: string, action: string, extra: { opinion?: string; version?: number; input?: Record<string, unknown>; idempotencyKey?: string } = {}): Promise<CaseView> {
  const r = await caseAction(f, caller, id, action, extra);
  if (!r.case) throw new Error(`${action} failed: ${r.code}`);
  return r.case;
}

export async function submitFull(f: CaseFixture, caller: Caller, input: Record<string, unknown>): Promise<CaseView> {
  const r = await f.call<{ submitCase: CaseView }>(caller, SUBMIT_FULL, { input });
  if (!r.data?.submitCase) throw new Error(`submit failed: ${JSON.stringify(r.errors ?? r.problem)}`);
  return r.data.submitCase;
}
