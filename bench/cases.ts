/**
 * `npm run bench cases`: cases per second through the whole pipeline — submit → accept →
 * approve → licence issued (the licence service signs it with the agency seal) → completed —
 * on real PostgreSQL and Redis, with the p95 latency of each step and a count of lost or
 * duplicated events (must be 0).
 *
 * The platform runs in this process (bin/platform.ts startPlatform, ephemeral ports, a fresh
 * database and Redis prefix, demo data seeded). Requests go to the case subgraph exactly as the
 * gateway sends them (an HMAC identity assertion per operation), so the figure measures the case
 * pipeline, not token verification. The applicant is the demo citizen, whom the licence service
 * looks up in the IdP for every licence, as in production.
 *
 * Events are counted on the streams themselves with private consumer groups reading from the
 * start: per case exactly one case.approved, one licence.issued and one case.completed.
 *
 * Baseline (same run): RSA-2048 PKCS#1 signatures per second with native crypto. Every licence
 * costs two (the seal's signature and the timestamp token's), so half of it bounds licences/s.
 *
 * Variables: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres, needs CREATEDB),
 * REDIS_URL (default redis://127.0.0.1:6379), BENCH_CASES (default 1000), BENCH_CONCURRENCY (64).
 */
import { scratchDatabase } from './support/scratch-db.ts';
import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import type { BenchResult } from './run.ts';
import { loadConfig, resolveSecrets } from '../kernel/config.ts';
import { openDb } from '../kernel/db.ts';
import { openCache } from '../kernel/cache.ts';
import { createLogger } from '../kernel/log.ts';
import { systemClock } from '../kernel/clock.ts';
import { internalKey, signIdentity, operationHash, IDENTITY_HEADER, type Caller } from '../kernel/internal-auth.ts';
import { DEMO_CITIZEN, DEMO_ITEMS, DEMO_STAFF } from '../kernel/demo.ts';
import type { Deps } from '../kernel/service.ts';
import { startPlatform } from '../bin/platform.ts';
import { startLicenceService } from '../subgraphs/licence/service.ts';
import { startCaseService } from '../subgraphs/case/service.ts';
import type { RunningService, ServiceFactory } from '../kernel/service.ts';

const CASES = Number(process.env.BENCH_CASES ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
/**
 * `processes` (default): the licence service runs as its own process, as in production (one
 * process per service), so signing does not queue behind the case service's requests on one
 * event loop; everything else, and this driver, share this process. `single`: all in-process.
 */
const TOPOLOGY = process.env.BENCH_TOPOLOGY === 'single' ? 'single' : 'processes';
/** Extra in-process replicas of the case service (consumer groups share the events). */
const CASE_REPLICAS = Number(process.env.BENCH_CASE_REPLICAS ?? 0);
/** Licence service processes (`processes` topology): replicas share the `cases` events through their consumer group. */
const LICENCE_PROCESSES = Number(process.env.BENCH_LICENCE_PROCESSES ?? 1);
const LICENCE_REPLICAS = 0;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

const childPids = new Map<string, number>();

/**
 * CPU seconds (user + system) used so far by this process, the service processes and the
 * PostgreSQL and Redis servers, from /proc (Linux). On a shared, noisy machine, CPU time per case
 * says where the work goes more steadily than cases per second does.
 */
function cpuSeconds(dbName: string): Record<string, number> {
  const ticks = (pid: string | number): [string, number] | null => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [comm, (Number(f[11]) + Number(f[12])) / 100];
    } catch { return null; }
  };
  const out: Record<string, number> = { driverAndInProcessServices: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6, postgres: 0, redis: 0 };
  for (const [name, pid] of childPids) out[name] = ticks(pid)?.[1] ?? 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const t = ticks(pid);
    // PostgreSQL: the backends serving this run's database and the server's own processes, not
    // the backends of other databases (other work on a shared machine).
    if (t?.[0] === 'postgres' && pgProcessOfThisRun(pid, dbName)) out.postgres! += t[1];
    else if (t?.[0].startsWith('redis-server')) out.redis! += t[1];
  }
  return out;
}

function pgProcessOfThisRun(pid: string, dbName: string): boolean {
  let cmd = '';
  try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '); } catch { return false; }
  if (!cmd.startsWith('postgres: ')) return true; // the postmaster
  if (cmd.includes(` ${dbName} `)) return true;
  return /^postgres: (\S+: )?(checkpointer|background writer|walwriter|autovacuum launcher|logical replication launcher|archiver|stats collector)/.test(cmd);
}

/** Run `node <script>` with the configuration as environment; resolves once /healthz answers. */
const processFactory = (script: string, portVar: string, env: Record<string, string>, fixedPort?: (d: Deps) => number): ServiceFactory => async (deps) => {
  const port = fixedPort ? fixedPort(deps) : await freePort();
  const vars: Record<string, string> = { ...process.env as Record<string, string>, ...env, [portVar]: String(port), IDP_INTERNAL_URL: deps.config.IDP_INTERNAL_URL, IDP_ISSUER: deps.config.IDP_ISSUER };
  const child = spawn(process.execPath, [...(process.env.BENCH_CHILD_ARGS?.split(' ').filter(Boolean) ?? []), script], { env: vars, stdio: ['ignore', 'ignore', 'inherit'] });
  childPids.set(script.split('/').at(-2) ?? script, child.pid!);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (i > 300) throw new Error(`${script} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name: script, url,
    close: () => new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.kill('SIGTERM'); }),
  };
};
const BASE_DB = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * Items the cases are spread over: 1 = the food-business licence item only (one issuing agency,
 * Hangzhou market supervision); 2 = alternating with the provincial food-production licence item
 * (a second issuing agency). The licence service issues one agency's licences one at a time.
 */
const AGENCIES = Number(process.env.BENCH_AGENCIES ?? 1);
const ITEMS = [DEMO_ITEMS[0]!, DEMO_ITEMS[3]!].slice(0, Math.max(1, Math.min(2, AGENCIES)));

const person: Caller = { kind: 'person', sub: DEMO_CITIZEN.id, name: DEMO_CITIZEN.name };
const staffOf = (role: 'acceptor' | 'decider', agency: string): Caller => {
  const s = DEMO_STAFF.find((x) => x.roles.includes(role))!;
  return { kind: 'staff', sub: s.id, name: s.name, agency, roles: [role] };
};

const SUBMIT = 'mutation ($input: SubmitCaseInput!) { submitCase(input: $input) { id version } }';
const ACCEPT = 'mutation ($id: ID!, $version: Int) { acceptCase(id: $id, version: $version, opinion: "材料齐全") { id version } }';
const APPROVE = 'mutation ($id: ID!, $version: Int) { approveCase(id: $id, version: $version, opinion: "准予许可") { id status } }';

function p95(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]! * 10) / 10;
}

function rsaBaseline(): number {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const data = randomBytes(512);
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < 2000) { sign('sha256', data, privateKey); n++; }
  return Math.round(n / ((performance.now() - start) / 1000));
}

export default async function bench(): Promise<BenchResult> {
  const baselineSignPerSecond = rsaBaseline();

  const scratch = await scratchDatabase(BASE_DB, 'yw_bench');
  const dbName = scratch.name;
  const url = scratch.url;
  // Diagnostic only (BENCH_SYNC_COMMIT=off): commits stop waiting for the WAL flush. Not durable:
  // never how the platform runs; it shows how much of the figure is the disk's flush latency.
  if (process.env.BENCH_SYNC_COMMIT === 'off') url.searchParams.set('options', '-c synchronous_commit=off');
  const prefix = `yw-bench:${randomBytes(4).toString('hex')}:`;
  const env: Record<string, string> = {
    NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: url.toString(), REDIS_URL: REDIS, REDIS_PREFIX: prefix,
    DATA_DIR: `/tmp/${dbName}`, DATABASE_POOL_SIZE: '20',
    YIWANG_INTERNAL_SECRET: randomBytes(32).toString('hex'), KEY_PASSPHRASE: randomBytes(32).toString('hex'),
  };
  const config = loadConfig(env);
  const secrets = resolveSecrets(config);
  const db = await openDb({ url: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE });
  const cache = await openCache({ url: REDIS, prefix });
  const deps: Deps = { config, secrets, internalKey: internalKey(secrets.internalSecret), db, cache, clock: systemClock, log: createLogger('bench', 'silent') };
  const platform = await startPlatform(deps, {
    ports: 'ephemeral', seed: true,
    ...(TOPOLOGY === 'processes' ? {
      factories: {
        licence: processFactory('subgraphs/licence/main.ts', 'LICENCE_PORT', env),
        idp: processFactory('idp/main.ts', 'IDP_PORT', { ...env, SEED_DEMO: 'true' }, (d) => d.config.IDP_PORT),
      },
    } : {}),
  });
  const replicaDeps = { ...deps, config: platform.config };
  const replicas: RunningService[] = [];
  for (let i = 0; i < LICENCE_REPLICAS; i++) replicas.push(await startLicenceService(replicaDeps, { port: 0 }));
  const extraLicence: RunningService[] = [];
  if (TOPOLOGY === 'processes') {
    for (let i = 1; i < LICENCE_PROCESSES; i++) extraLicence.push(await processFactory('subgraphs/licence/main.ts', 'LICENCE_PORT', env)(replicaDeps, { port: 0 }));
  }
  for (let i = 0; i < CASE_REPLICAS; i++) replicas.push(await startCaseService(replicaDeps, { port: 0 }));
  const caseUrls = [platform.services.case.url, ...replicas.slice(LICENCE_REPLICAS).map((r) => r.url)].map((u) => `${u}/graphql`);
  let rr = 0;

  // Watch the streams: resolve per-case waiters and count every event.
  const counts = { 'case.approved': new Map<string, number>(), 'licence.issued': new Map<string, number>(), 'case.completed': new Map<string, number>() };
  const seenAt = new Map<string, number>(); // `${type}:${caseId}` → ms
  const waiters = new Map<string, () => void>();
  let watching = true;
  const watch = async (stream: string) => {
    const group = `bench-${randomUUID().slice(0, 8)}`;
    await cache.xGroupCreate(stream, group);
    while (watching) {
      const batch = await cache.xReadGroup(stream, group, 'bench', { count: 500, blockMs: 200 });
      const now = performance.now();
      for (const m of batch) {
        const type = m.fields.type as keyof typeof counts;
        if (!(type in counts)) continue;
        const caseId = (JSON.parse(m.fields.payload ?? '{}') as { caseId?: string }).caseId ?? '';
        counts[type].set(caseId, (counts[type].get(caseId) ?? 0) + 1);
        if (!seenAt.has(`${type}:${caseId}`)) seenAt.set(`${type}:${caseId}`, now);
        if (type === 'case.completed') waiters.get(caseId)?.();
      }
    }
  };
  const watchers = [watch('cases'), watch('licences')];

  const call = async <T>(caller: Caller, query: string, variables: Record<string, unknown>): Promise<T> => {
    const res = await fetch(caseUrls[rr++ % caseUrls.length]!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: await signIdentity(deps.internalKey, caller, operationHash(query, variables)) },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json() as { data?: T; errors?: unknown };
    if (!body.data || body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };


  const lat = { submit: [] as number[], accept: [] as number[], approve: [] as number[], licence: [] as number[], complete: [] as number[], total: [] as number[] };
  const failures: string[] = [];
  const run = async (i: number, runId: string, items = ITEMS) => {
    const item = items[i % items.length]!;
    const acceptor = staffOf('acceptor', item.agencyCode), decider = staffOf('decider', item.agencyCode);
    const t0 = performance.now();
    const { submitCase: c } = await call<{ submitCase: { id: string; version: number } }>(person, SUBMIT, { input: { itemId: item.id, idempotencyKey: `${runId}-${i}` } });
    const t1 = performance.now();
    const done = new Promise<void>((resolve) => waiters.set(c.id, resolve));
    const { acceptCase: a } = await call<{ acceptCase: { version: number } }>(acceptor, ACCEPT, { id: c.id, version: c.version });
    const t2 = performance.now();
    await call(decider, APPROVE, { id: c.id, version: a.version });
    const t3 = performance.now();
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000).unref());
    if (await Promise.race([done, timeout]) === 'timeout') { failures.push(c.id); return; }
    waiters.delete(c.id);
    const issued = seenAt.get(`licence.issued:${c.id}`) ?? performance.now();
    const completed = seenAt.get(`case.completed:${c.id}`) ?? performance.now();
    lat.submit.push(t1 - t0); lat.accept.push(t2 - t1); lat.approve.push(t3 - t2);
    lat.licence.push(issued - t3); lat.complete.push(completed - issued); lat.total.push(completed - t0);
  };
  const pipeline = async (n: number, concurrency: number, runId: string, items = ITEMS) => {
    let next = 0;
    const worker = async () => { for (let i = next++; i < n; i = next++) await run(i, runId, items).catch((e: unknown) => { failures.push(String(e).slice(0, 200)); }); };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };

  await pipeline(Math.min(50, CASES), 8, 'warmup'); // JIT, seal certificates, pools
  for (const k of Object.keys(lat) as Array<keyof typeof lat>) lat[k] = [];
  const casesBefore = counts['case.completed'].size;
  const cpuBefore = cpuSeconds(dbName);
  const started = performance.now();
  await pipeline(process.env.BENCH_ONLY_CASE_SERVICE === '1' ? 0 : CASES, CONCURRENCY, 'run'); // 1: profile the case service alone
  const seconds = (performance.now() - started) / 1000;
  const casesPerSecond = Math.round((lat.total.length / seconds) * 10) / 10;
  const measured = { ...lat };
  const cpuAfter = cpuSeconds(dbName);
  // CPU milliseconds per case, by process (postgres: every backend, i.e. all the services' queries).
  const cpuMsPerCase = Object.fromEntries(Object.keys(cpuAfter).map((k) => [k, Math.round(((cpuAfter[k]! - (cpuBefore[k] ?? 0)) * 1000 / Math.max(1, lat.total.length)) * 10) / 10]));
  const cpuMsPerCaseTotal = Math.round(Object.values(cpuMsPerCase).reduce((a, b) => a + b, 0) * 10) / 10;

  // The case service alone: an item without a licence type completes on approval (no signing).
  for (const k of Object.keys(lat) as Array<keyof typeof lat>) lat[k] = [];
  const started2 = performance.now();
  await pipeline(process.env.BENCH_ONLY_CASE_SERVICE === '1' ? CASES : Math.ceil(CASES / 2), CONCURRENCY, 'nolicence', [DEMO_ITEMS[2]!]);
  const withoutLicence = { cases: lat.total.length, perSecond: Math.round((lat.total.length / ((performance.now() - started2) / 1000)) * 10) / 10, p95: p95(lat.total) };
  Object.assign(lat, measured);

  await new Promise((r) => setTimeout(r, 1500)); // let any duplicate arrive before counting
  watching = false;
  await Promise.all(watchers);
  const { rows } = await db.query<{ id: string; licence: boolean }>(`select id, licence_type_code is not null as licence from cases.cases`);
  let lost = 0, duplicated = 0;
  for (const { id, licence } of rows) {
    for (const [type, m] of Object.entries(counts)) {
      if (!licence && type !== 'case.completed') continue;
      const n = m.get(id) ?? 0;
      if (n === 0) lost++;
      if (n > 1) duplicated += n - 1;
    }
  }

  for (const r of [...replicas, ...extraLicence]) await r.close();
  await platform.close();
  await cache.close();
  await db.close();
  await scratch.drop();
  rmSync(env.DATA_DIR!, { recursive: true, force: true });

  const figures = {
    cases: lat.total.length, concurrency: CONCURRENCY, synchronousCommit: process.env.BENCH_SYNC_COMMIT === 'off' ? 'off (diagnostic)' : 'on', topology: TOPOLOGY, issuingAgencies: ITEMS.length, licenceProcesses: TOPOLOGY === 'processes' ? LICENCE_PROCESSES : 0, caseReplicas: 1 + CASE_REPLICAS, seconds: Math.round(seconds * 10) / 10, casesPerSecond,
    p95SubmitMs: p95(lat.submit), p95AcceptMs: p95(lat.accept), p95ApproveMs: p95(lat.approve),
    p95LicenceIssuedMs: p95(lat.licence), p95CompletedMs: p95(lat.complete), p95TotalMs: p95(lat.total),
    lost, duplicated, failures: failures.length, warmupCases: casesBefore, casesChecked: rows.length,
    casesWithoutLicence: withoutLicence.cases, casesPerSecondWithoutLicence: withoutLicence.perSecond, p95TotalWithoutLicenceMs: withoutLicence.p95,
    baselineSignPerSecond, licenceBoundPerSecond: Math.round(baselineSignPerSecond / 2), goalCasesPerSecond: 200,
    ...Object.fromEntries(Object.entries(cpuMsPerCase).map(([k, v]) => [`cpuMsPerCase_${k}`, v])), cpuMsPerCaseTotal,
    // 2 cores' worth of CPU divided by what one case costs: the rate this machine could reach if nothing else ran on it.
    cpuBoundCasesPerSecond: Math.round(2000 / Math.max(0.1, cpuMsPerCaseTotal)),
  };
  return {
    top: { casesPerSecond, lost }, // the headline figures, at the top level of bench/results/cases.json
    figures,
    summary: [
      `${figures.cases} cases in ${figures.seconds}s at concurrency ${CONCURRENCY}, ${ITEMS.length} issuing agenc${ITEMS.length > 1 ? 'ies' : 'y'} (${TOPOLOGY === 'processes' ? `IdP and ${LICENCE_PROCESSES} licence service process(es) beside this one` : 'all in one process'}, ${1 + CASE_REPLICAS} case instance(s)): ${casesPerSecond} cases/s (goal 200)`,
      `p95 ms: submit ${figures.p95SubmitMs}, accept ${figures.p95AcceptMs}, approve ${figures.p95ApproveMs}, → licence issued ${figures.p95LicenceIssuedMs}, → completed ${figures.p95CompletedMs}, whole case ${figures.p95TotalMs}`,
      `events: lost ${lost}, duplicated ${duplicated} over ${rows.length} cases; failed cases ${failures.length}${failures[0] ? ` (first: ${failures[0]})` : ''}`,
      `the case service alone (an item without licence, completed on approval): ${withoutLicence.perSecond} cases/s, p95 whole case ${withoutLicence.p95} ms`,
      `CPU ms per case: ${Object.entries(cpuMsPerCase).map(([k, v]) => `${k} ${v}`).join(', ')}; total ${cpuMsPerCaseTotal} → at most ~${figures.cpuBoundCasesPerSecond} cases/s on 2 cores`,
      `baseline: ${baselineSignPerSecond} RSA-2048 signatures/s → at most ~${figures.licenceBoundPerSecond} licences/s from signing alone (2 per licence)`,
    ],
  };
}
