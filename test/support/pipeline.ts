/**
 * The case pipeline for fault tests: the case and licence services on one database and cache
 * (submit → accept → approve → the licence service seals the licence → the case completes), and
 * a load driver that behaves as a well-written client: it retries what the platform answered as
 * retryable (SERVICE_UNAVAILABLE), re-reads after a CONFLICT, and submits with an idempotency key
 * so a retried submission never makes a second case. Applicant contacts, notices, the holder
 * directory and the materials' licence check are local stand-ins (no IdP is running); events,
 * database, seals and signatures are the real ones.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../kernel/config.ts';
import { internalKey, type Caller } from '../../kernel/internal-auth.ts';
import { pino } from 'pino';
import { silentLogger } from '../../kernel/log.ts';
import { systemClock } from '../../kernel/clock.ts';
import type { Cache } from '../../kernel/cache.ts';
import type { Db } from '../../kernel/db.ts';
import type { Deps, RunningService } from '../../kernel/service.ts';
import { DEMO_CITIZEN, DEMO_ITEMS, DEMO_STAFF } from '../../kernel/demo.ts';
import { caseServiceFactory, seedReplica } from '../../subgraphs/case/service.ts';
import { localStorage } from '../../subgraphs/case/materials/storage.ts';
import { licenceServiceFactory } from '../../subgraphs/licence/service.ts';
import { callSubgraph } from './subgraph.ts';
import { TEST_SECRET } from './infra.ts';

/** The food business licence item: approval makes the licence service issue a sealed licence. */
export const LICENCE_ITEM = DEMO_ITEMS[0]!;
const person: Caller = { kind: 'person', sub: DEMO_CITIZEN.id, name: DEMO_CITIZEN.name };
const staffOf = (role: 'acceptor' | 'decider'): Caller => {
  const s = DEMO_STAFF.find((x) => x.roles.includes(role))!;
  return { kind: 'staff', sub: s.id, name: s.name, agency: LICENCE_ITEM.agencyCode, roles: [role] };
};

export interface Pipeline {
  /** Notices sent to applicants, as `template caseNumber` (the notice consumer sends them before recording the event). */
  notices: string[];
  caseService: RunningService;
  licenceService: RunningService;
  deps: Deps;
  close(): Promise<void>;
}

export interface PipelineOptions {
  db: Db;
  cache: Cache;
  /** How soon an event that failed (e.g. while the database was down) is tried again. */
  claimIdleMs?: number;
  /** Log level (default silent). */
  logLevel?: string;
  /** File descriptor the logs go to (default stdout). */
  logTo?: number;
  casePort?: number;
  licencePort?: number;
}

export async function startPipeline(o: PipelineOptions): Promise<Pipeline> {
  const dataDir = mkdtempSync(join(tmpdir(), 'yw-pipeline-'));
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: o.logLevel ?? 'silent', DATA_DIR: dataDir, CASE_DEADLINE_SCAN_MS: '3600000' });
  const log = o.logLevel && o.logLevel !== 'silent'
    ? pino({ name: 'pipeline', level: o.logLevel }, pino.destination(o.logTo ?? 1)) : silentLogger();
  const deps: Deps = {
    config, secrets: { internalSecret: TEST_SECRET, keyPassphrase: 'test-passphrase-0123456789abcdef-0123', cookieKeys: ['k'] },
    internalKey: internalKey(TEST_SECRET), db: o.db, cache: o.cache, clock: systemClock, log,
  };
  const consumer = { blockMs: 100, claimIdleMs: o.claimIdleMs ?? 1000 };
  const notices: string[] = [];
  const licenceService = await licenceServiceFactory({
    consumer, relayIntervalMs: 50,
    directory: { get: async (id) => ({ id, name: DEMO_CITIZEN.name, idNumber: DEMO_CITIZEN.idNumber }) },
  })(deps, { port: o.licencePort ?? 0 });
  let caseService: RunningService;
  try {
    const kase = caseServiceFactory({
      consumer, relayIntervalMs: 50,
      notifier: { send: async (n) => { notices.push(`${n.template} ${n.params?.caseNumber ?? ''}`); } }, contacts: { mobileOf: async () => '13800138000' },
      storage: localStorage(join(dataDir, 'materials')),
      licenceChecker: { check: async () => ({ ok: false, reason: 'NOT_FOUND', message: 'no such licence', licence: null }) },
    });
    caseService = await kase(deps, { port: o.casePort ?? 0 });
    await seedReplica(deps);
  } catch (e) {
    await licenceService.close();
    throw e;
  }
  return {
    notices, caseService, licenceService, deps,
    async close() {
      await caseService.close();
      await licenceService.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface LoadResult {
  /** Case ids, one per submission that got a case. */
  cases: string[];
  /** Answers that were neither data nor a retryable refusal (must stay empty). */
  failures: string[];
  /** How many times the driver was told to retry (SERVICE_UNAVAILABLE or the service unreachable). */
  retried: number;
  /** Distinct error codes met, with counts. */
  codes: Record<string, number>;
}

const SUBMIT = 'mutation ($input: SubmitCaseInput!) { submitCase(input: $input) { id version status } }';
const READ = 'query ($id: ID!) { case(id: $id) { id version status } }';
const ACCEPT = 'mutation ($id: ID!, $version: Int) { acceptCase(id: $id, version: $version, opinion: "材料齐全") { id version status } }';
const APPROVE = 'mutation ($id: ID!, $version: Int) { approveCase(id: $id, version: $version, opinion: "准予许可") { id version status } }';
type View = { id: string; version: number; status: string };

/**
 * Drive `count` cases to APPROVED (the licence and the completion follow by events), `concurrency`
 * at a time, against the case service at `url`. `onProgress(n)` is called after each approval.
 */
export async function driveCases(url: string, key: Deps['internalKey'], count: number, concurrency: number, runId: string,
  onProgress?: (approved: number) => void, stopIf?: () => string | null): Promise<LoadResult> {
  const result: LoadResult = { cases: [], failures: [], retried: 0, codes: {} };
  let approved = 0;
  /** One operation until it gives data; retries retryable answers, returns null on CONFLICT. */
  const call = async (caller: Caller, query: string, variables: Record<string, unknown>): Promise<View | null> => {
    for (let attempt = 0; ; attempt++) {
      const stop = stopIf?.();
      if (stop) throw new Error(stop);
      let code: string | undefined;
      let retryAfterMs = 200;
      try {
        const r = await callSubgraph<Record<string, View>>(url, key, caller, query, variables);
        const data = r.data ? Object.values(r.data)[0] : undefined;
        if (data) return data;
        code = r.errors?.[0]?.extensions?.code ?? r.problem?.code ?? `HTTP ${r.status}`;
      } catch (e) {
        code = 'UNREACHABLE'; // the service is down or restarting its listener: a client retries
        retryAfterMs = 500;
        void e;
      }
      result.codes[code] = (result.codes[code] ?? 0) + 1;
      if (code === 'CONFLICT') return null;
      if ((code === 'SERVICE_UNAVAILABLE' || code === 'UNREACHABLE') && attempt < 200) {
        result.retried++;
        await new Promise((r) => setTimeout(r, retryAfterMs));
        continue;
      }
      throw new Error(`${code}`);
    }
  };
  const one = async (i: number) => {
    const c = await call(person, SUBMIT, { input: { itemId: LICENCE_ITEM.id, idempotencyKey: `${runId}-${i}` } });
    if (!c) throw new Error('submit conflicted');
    result.cases.push(c.id);
    let view: View = c;
    for (let step = 0; step < 20; step++) {
      if (view.status === 'SUBMITTED') {
        const next = await call(staffOf('acceptor'), ACCEPT, { id: c.id, version: view.version });
        view = next ?? (await call(staffOf('acceptor'), READ, { id: c.id }))!;
      } else if (view.status === 'ACCEPTED') {
        const next = await call(staffOf('decider'), APPROVE, { id: c.id, version: view.version });
        view = next ?? (await call(staffOf('decider'), READ, { id: c.id }))!;
      } else {
        approved++;
        onProgress?.(approved);
        return;
      }
    }
    throw new Error(`case ${c.id} stuck in ${view.status}`);
  };
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) await one(i).catch((e: unknown) => { result.failures.push(String((e as Error).message ?? e).slice(0, 200)); });
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}

/** Every case's status, licences and completion steps, for the "completed once" checks. */
export async function pipelineState(db: Db, ids: string[]): Promise<{ statuses: Record<string, number>; licencesPerCase: number[]; completionsPerCase: number[] }> {
  const statuses: Record<string, number> = {};
  for (const r of (await db.query<{ status: string; n: number }>('select status, count(*)::int as n from cases.cases where id = any($1::uuid[]) group by status', [ids])).rows) statuses[r.status] = r.n;
  const licences = new Map((await db.query<{ case_id: string; n: number }>('select case_id, count(*)::int as n from licence.licences where case_id = any($1::text[]) group by case_id', [ids])).rows.map((r) => [r.case_id, r.n]));
  const completions = new Map((await db.query<{ case_id: string; n: number }>(
    "select case_id, count(*)::int as n from cases.case_steps where case_id = any($1::uuid[]) and action = 'complete' group by case_id", [ids])).rows.map((r) => [r.case_id, r.n]));
  return { statuses, licencesPerCase: ids.map((id) => licences.get(id) ?? 0), completionsPerCase: ids.map((id) => completions.get(id) ?? 0) };
}
