/**
 * `npm run bench gateway`: one nested query touching four subgraphs (`@key`, `@requires`,
 * `@provides`) served by
 *   - Yiwang's gateway (Hive runtime + Rust planner, with token verification, the identity
 *     assertion on every subgraph call, limits, schema authorization and metrics on),
 *   - the engine alone: the same runtime and planner with the same signing and per-caller merging
 *     but none of the platform's plugins (what the guard costs),
 *   - stock `@apollo/gateway` over the same supergraph (signing the same assertion; it does not
 *     verify the token), and
 *   - a non-federated graphql-js server of the same schema and data (the ceiling),
 * each in its own process, against the same four subgraphs (one process of their own,
 * bench/support/gateway-targets.ts).
 * The answers are checked equal first. Then, per target, a closed loop of BENCH_CONCURRENCY
 * requests for BENCH_SECONDS after a warm-up: requests/s, p50/p99 latency, the target's peak RSS
 * (VmHWM) and its CPU seconds per 1,000 requests (utime + stime from /proc).
 *
 * The subgraph process's CPU per request is reported beside each target's: when it is close to
 * a whole core, the subgraphs (not the gateway) bound that target's throughput.
 *
 * Two loads: one account sending every request (identical subgraph fetches of one caller in
 * flight may be merged) and 16 accounts (no two requests in flight are the same caller's, so
 * nothing is merged); BENCH_ACCOUNTS (default `1,16`) chooses.
 *
 * Variables: BENCH_SECONDS (default 10), BENCH_CONCURRENCY (16), BENCH_WARMUP_SECONDS (3),
 * BENCH_ROUNDS (1: with more, the targets are measured in turn that many times and each figure
 * is the median, RSS the peak),
 * BENCH_PROFILE (a directory: every process runs with `--cpu-prof` and writes its profile there
 * when the benchmark ends).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { BenchResult } from './run.ts';
import { QUERY } from './support/gateway-targets.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
const ACCOUNTS = (process.env.BENCH_ACCOUNTS ?? '1,16').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const SECRET = 'bench-internal-secret-0123456789abcdef-0123456789';
const NODE = join(process.cwd(), 'node_modules/.bin/node');
const SCRIPT = join(process.cwd(), 'bench/support/gateway-targets.ts');
const CLK_TCK = 100;
const PROFILE = process.env.BENCH_PROFILE;

interface Proc { child: ChildProcess; info: Record<string, string> }

function start(kind: string, env: Record<string, string>): Promise<Proc> {
  const args = PROFILE ? ['--cpu-prof', '--cpu-prof-dir', PROFILE, `--cpu-prof-name=${kind}.cpuprofile`, SCRIPT, kind] : [SCRIPT, kind];
  const child = spawn(NODE, args, { env: { ...process.env, ...env, NODE_ENV: 'production', APOLLO_TELEMETRY_DISABLED: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (.+)\n/.exec(out);
      if (m?.[1]) resolve({ child, info: JSON.parse(m[1]) as Record<string, string> });
    });
    child.once('exit', (code) => reject(new Error(`${kind} exited (${code})`)));
  });
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14, 15 of stat)
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

async function post(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: QUERY, variables: { first: 20 } }) });
  return { status: res.status, body: await res.text() };
}

async function load(url: string, accounts: Array<Record<string, string>>, seconds: number): Promise<number[]> {
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async (_, worker) => {
    const headers = accounts[worker % accounts.length]!;
    while (performance.now() < until) {
      const t = performance.now();
      const r = await post(url, headers);
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 200)}`);
      latencies.push(performance.now() - t);
    }
  }));
  return latencies;
}

const pct = (sorted: number[], p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! * 10) / 10;

export default async function bench(): Promise<BenchResult> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' }] });
  const issuer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
  await new Promise<void>((r) => issuer.listen(0, '127.0.0.1', r));
  const issuerUrl = `http://127.0.0.1:${(issuer.address() as { port: number }).port}`;
  const now = Math.floor(Date.now() / 1000);
  const tokenFor = (sub: string) => new SignJWT({ yw_kind: 'person', yw_name: '张三', acr: 'urn:yiwang:loa:3' }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'bench' })
    .setSubject(sub).setIssuer(issuerUrl).setAudience('http://127.0.0.1:4000/graphql').setIssuedAt(now).setExpirationTime(now + 3600).sign(privateKey);
  // One bearer header per account; worker i of the closed loop sends account i mod n's.
  const accountHeaders = async (n: number) => Promise.all(Array.from({ length: n }, async (_, i) => ({ authorization: `Bearer ${await tokenFor(`bench-person-${i + 1}`)}` })));
  const auth = (await accountHeaders(1))[0]!;

  const procs: Proc[] = [];
  try {
    const subgraphs = await start('subgraphs', { BENCH_SECRET: SECRET });
    procs.push(subgraphs);
    const env = { BENCH_SECRET: SECRET, BENCH_URLS: JSON.stringify(subgraphs.info), BENCH_ISSUER: issuerUrl, BENCH_JWKS_URL: `${issuerUrl}/jwks` };
    const targets: Array<{ name: string; label: string }> = [
      { name: 'yiwang', label: "Yiwang's gateway (Hive runtime + Rust planner; tokens, signing, limits, auth, metrics on)" },
      { name: 'hive', label: 'the engine alone (Hive runtime + Rust planner, same signing, no platform plugins)' },
      { name: 'apollo', label: 'stock @apollo/gateway 2.14 (same supergraph, same signing)' },
      { name: 'monolith', label: 'non-federated graphql-js server (the ceiling)' },
    ];
    const urls: Record<string, string> = {};
    const pids: Record<string, number> = {};
    for (const t of targets) {
      const p = await start(t.name, env);
      procs.push(p);
      urls[t.name] = p.info.url!;
      pids[t.name] = p.child.pid!;
    }

    // Same answers first.
    const answers = Object.fromEntries(await Promise.all(targets.map(async (t) => [t.name, await post(urls[t.name]!, auth)] as const)));
    const reference = JSON.parse(answers.monolith!.body) as unknown;
    for (const t of targets) {
      const a = answers[t.name]!;
      if (a.status !== 200 || !isDeepStrictEqual(JSON.parse(a.body), reference)) throw new Error(`${t.name} answers differently: ${a.body.slice(0, 300)}`);
      if ((JSON.parse(a.body) as { errors?: unknown }).errors) throw new Error(`${t.name} answered with errors`);
    }
    const answerKb = Math.round(Buffer.byteLength(answers.monolith!.body) / 1024);

    const figures: BenchResult['figures'] = { seconds: SECONDS, concurrency: CONCURRENCY, rounds: ROUNDS, answerKb, answersEqual: true };
    const summary: string[] = [`nested query over 4 subgraphs (@key, @requires, @provides), ${answerKb} KB answer, answers equal; ${CONCURRENCY} concurrent, ${SECONDS} s each, ${ROUNDS} round(s) (medians)`];
    type Row = { rps: number; p50: number; p99: number; rssMb: number; cpuMsPerRequest: number; subgraphCpuMsPerRequest: number; subgraphCoresBusy: number };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
    const top: BenchResult['top'] = {};
    let warmedUp = false;
    for (const accounts of ACCOUNTS) {
      // One account: all 16 requests of the closed loop are the same person's, so the gateway may
      // merge their identical subgraph fetches in flight. Sixteen accounts: no two concurrent
      // requests are the same caller's, so nothing is merged (the platform never merges across callers).
      const headers = await accountHeaders(accounts);
      const prefix = accounts === 1 ? '' : `accounts${accounts}.`;
      summary.push(`— ${accounts === 1 ? 'one account sends every request' : `${accounts} accounts, each request's caller differs from the others in flight`}:`);
      const rounds: Record<string, Row[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
      // Rounds take the targets in turn, so a neighbour's burst on the shared machine does not land on one target only.
      for (let round = 0; round < ROUNDS; round++) {
        for (const t of targets) {
          if (!warmedUp) await load(urls[t.name]!, headers, WARMUP);
          const cpu0 = cpuSeconds(pids[t.name]!);
          const subCpu0 = cpuSeconds(subgraphs.child.pid!);
          const started = performance.now();
          const lat = await load(urls[t.name]!, headers, SECONDS);
          const elapsed = (performance.now() - started) / 1000;
          const cpu = cpuSeconds(pids[t.name]!) - cpu0;
          const subCpu = cpuSeconds(subgraphs.child.pid!) - subCpu0;
          lat.sort((a, b) => a - b);
          rounds[t.name]!.push({
            rps: Math.round(lat.length / elapsed * 10) / 10, p50: pct(lat, 0.5), p99: pct(lat, 0.99),
            rssMb: peakRssMb(pids[t.name]!), cpuMsPerRequest: Math.round(cpu / lat.length * 1e4) / 10,
            subgraphCpuMsPerRequest: Math.round(subCpu / lat.length * 1e4) / 10, subgraphCoresBusy: Math.round(subCpu / elapsed * 100) / 100,
          });
        }
        warmedUp = true;
      }
      const rows: Record<string, Row> = {};
      for (const t of targets) {
        const rs = rounds[t.name]!;
        // Each figure is the median over the rounds (the lower middle one for an even count); RSS is the peak so far.
        const r: Row = {
          rps: median(rs.map((x) => x.rps)), p50: median(rs.map((x) => x.p50)), p99: median(rs.map((x) => x.p99)), rssMb: Math.max(...rs.map((x) => x.rssMb)),
          cpuMsPerRequest: median(rs.map((x) => x.cpuMsPerRequest)), subgraphCpuMsPerRequest: median(rs.map((x) => x.subgraphCpuMsPerRequest)), subgraphCoresBusy: median(rs.map((x) => x.subgraphCoresBusy)),
        };
        rows[t.name] = r;
        const each = ROUNDS > 1 ? ` [rounds: ${rs.map((x) => `${x.rps} req/s ${x.cpuMsPerRequest} ms`).join('; ')}]` : '';
        summary.push(`  ${t.label}: ${r.rps} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, peak RSS ${r.rssMb} MB, CPU ${r.cpuMsPerRequest} ms/request (subgraphs ${r.subgraphCpuMsPerRequest} ms/request, ${r.subgraphCoresBusy} cores busy)${each}`);
        for (const [k, v] of Object.entries(r)) figures[`${prefix}${t.name}.${k}`] = v;
      }
      const vsStock = Math.round(rows.yiwang!.rps / rows.apollo!.rps * 100) / 100;
      const vsCeiling = Math.round(rows.yiwang!.rps / rows.monolith!.rps * 100) / 100;
      // On a shared machine the load generator and every target compete for the same cores, so
      // throughput ratios swing with the neighbours' load; CPU time per request is steadier.
      const cpuVsStock = Math.round(rows.apollo!.cpuMsPerRequest / rows.yiwang!.cpuMsPerRequest * 100) / 100;
      const cpuVsCeiling = Math.round(rows.monolith!.cpuMsPerRequest / rows.yiwang!.cpuMsPerRequest * 100) / 100;
      const ratios = { yiwangVsStock: vsStock, yiwangVsNonFederated: vsCeiling, cpuEfficiencyVsStock: cpuVsStock, cpuEfficiencyVsNonFederated: cpuVsCeiling, yiwangRps: rows.yiwang!.rps, stockRps: rows.apollo!.rps, nonFederatedRps: rows.monolith!.rps };
      for (const [k, v] of Object.entries(ratios)) { figures[`${prefix}${k}`] = v; top[`${prefix}${k}`] = v; }
      summary.push(`  Yiwang / stock: ${vsStock}× req/s, ${cpuVsStock}× less CPU per request (goal ≥ 2.5×); Yiwang / non-federated: ${vsCeiling} req/s, ${cpuVsCeiling} by CPU (goal ≥ 0.6); RSS ${rows.yiwang!.rssMb} MB vs stock ${rows.apollo!.rssMb} MB (goal: below)`);
    }
    return { figures, summary, top };
  } finally {
    // With profiles on, SIGTERM lets each process exit normally and write its profile.
    await Promise.all(procs.map((p) => new Promise<void>((resolve) => {
      if (p.child.exitCode !== null) return resolve();
      p.child.once('exit', () => resolve());
      p.child.kill(PROFILE ? 'SIGTERM' : 'SIGKILL');
    })));
    issuer.close();
  }
}
