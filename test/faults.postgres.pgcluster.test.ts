/**
 * faults.postgres: PostgreSQL restarted under a load of cases. The case and licence services run
 * in a process of their own (test/support/pipeline-main.ts) against a private cluster (never the
 * shared server: others' tests use it), while this test submits, accepts and approves cases as a
 * client that retries what it is told to retry. First `pg_ctl restart -m fast` (the fault as it
 * happens in operation), then a stop held for two seconds and a start, to watch /healthz. The
 * process must stay up, /healthz must say degraded while the database is away and ok after,
 * no request may fail with anything but a retryable SERVICE_UNAVAILABLE, and every case must
 * complete with one licence and one completion.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { openDb, type Db } from '../kernel/db.ts';
import { internalKey } from '../kernel/internal-auth.ts';
import { startPgCluster, type PgCluster } from './support/pg-cluster.ts';
import { TEST_SECRET } from './support/infra.ts';
import { eventually } from './support/eventually.ts';
import { driveCases, pipelineState } from './support/pipeline.ts';

let cluster: PgCluster;
let child: ChildProcess;
let urls: { caseUrl: string; licenceUrl: string };
let db: Db;
let exited: { code: number | null; signal: string | null } | null = null;
const stderr: string[] = [];

beforeAll(async () => {
  cluster = await startPgCluster();
  const url = await cluster.createDatabase(`yw_restart_${randomBytes(4).toString('hex')}`);
  child = spawn(process.execPath, ['test/support/pipeline-main.ts'], {
    env: {
      ...process.env, DATABASE_URL: url, REDIS_PREFIX: `yw-test:${randomBytes(6).toString('hex')}:`,
      PIPELINE_CLAIM_IDLE_MS: '1000', LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? 'silent',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  child.stderr!.on('data', (d: Buffer) => { stderr.push(d.toString()); if (stderr.length > 200) stderr.shift(); });
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<string>((resolve, reject) => {
    lines.on('line', (l) => { if (l.startsWith('READY ')) resolve(l.slice(6)); });
    child.once('exit', (code) => reject(new Error(`pipeline exited with ${code} before it was ready: ${stderr.join('').slice(-2000)}`)));
  });
  urls = JSON.parse(await ready) as typeof urls;
  db = await openDb({ url, poolSize: 2 });
}, 120_000);
afterAll(async () => {
  if (child && exited === null) {
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([once(child, 'exit'), new Promise((r) => { timer = setTimeout(r, 10_000); })]);
    clearTimeout(timer);
    if (exited === null) child.kill('SIGKILL');
  }
  await db?.close().catch(() => undefined);
  await cluster?.destroy();
});

const CASES = 60;
const afterStop: Array<() => Promise<void>> = [];
afterAll(async () => { for (const f of afterStop) await f(); });
const health = async (url: string): Promise<number> => fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.status, () => 0);

describe('faults.postgres', () => {
  test('restart under load: the services stay up, /healthz goes degraded then ok, every case completes once', async () => {
    const samples: Array<{ at: string; case: number; licence: number }> = [];
    let phase = 'before';
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const at = phase;
        const [c, l] = await Promise.all([health(urls.caseUrl), health(urls.licenceUrl)]);
        samples.push({ at, case: c, licence: l });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    afterStop.push(async () => { sampling = false; await sampler; });
    let fault: Promise<void> | undefined;
    const key = internalKey(TEST_SECRET);
    const load = await driveCases(urls.caseUrl, key, CASES, 8, randomUUID(), (approved) => {
      if (approved !== 10 || fault) return;
      fault = (async () => {
        phase = 'restart';
        await cluster.restart();                       // the fault as reported: pg_ctl restart -m fast
        phase = 'between';
        await new Promise((r) => setTimeout(r, 1500));
        phase = 'stopped';
        await cluster.stop();                          // an outage long enough to watch /healthz
        await new Promise((r) => setTimeout(r, 2000));
        phase = 'started';
        await cluster.start();
        phase = 'after';
      })();
    }, () => (exited ? `the service process ended: ${JSON.stringify(exited)}` : null));
    await fault;
    // The process survived both (if not, what it said when it ended).
    expect({ exited, said: exited ? stderr.join('').slice(-4000) : '' }).toEqual({ exited: null, said: '' });
    expect(load.failures).toEqual([]);
    const state = await eventually(async () => {
      if (exited) throw new Error(`the service process ended: ${JSON.stringify(exited)}`);
      const s = await pipelineState(db, load.cases).catch(() => null);
      return s && s.statuses.COMPLETED === CASES ? s : null;
    }, 120_000, 500).catch(async () => {
      throw new Error(`not every case completed: ${JSON.stringify((await pipelineState(db, load.cases)).statuses)}; exited ${JSON.stringify(exited)}; ${stderr.join('').slice(-3000)}`);
    });
    await eventually(async () => (await health(urls.caseUrl)) === 200 && (await health(urls.licenceUrl)) === 200, 30_000);
    sampling = false;
    await sampler;
    // The sampler's last probe may have started before the services were back: one more, now.
    samples.push({ at: 'after', case: await health(urls.caseUrl), licence: await health(urls.licenceUrl) });

    // On failure, say what the client and the probes saw.
    try {
      expect(exited).toBeNull();
      expect(load.cases).toHaveLength(CASES);
      // Refused only with the retryable code while the database was away (never INTERNAL).
      expect(Object.keys(load.codes).filter((c) => c !== 'SERVICE_UNAVAILABLE' && c !== 'CONFLICT')).toEqual([]);
      expect(load.codes.SERVICE_UNAVAILABLE ?? 0).toBeGreaterThan(0);
      // /healthz: ok before, degraded (503) while the database was away, ok again after.
      expect(samples.some((s) => s.at === 'before' && s.case === 200 && s.licence === 200)).toBe(true);
      // (Probes started once the fault had begun; on a loaded machine one probe may span phases.)
      const during = samples.filter((s) => s.at !== 'before');
      expect(during.some((s) => s.case === 503)).toBe(true);
      expect(during.some((s) => s.licence === 503)).toBe(true);
      expect(samples.every((s) => s.case !== 0 && s.licence !== 0)).toBe(true); // always answered
      expect(samples.at(-1)).toMatchObject({ case: 200, licence: 200 });
      expect(state.licencesPerCase).toEqual(new Array(CASES).fill(1));
      expect(state.completionsPerCase).toEqual(new Array(CASES).fill(1));
    } catch (e) {
      throw new Error(`${(e as Error).message}\ncodes ${JSON.stringify(load.codes)}; samples ${JSON.stringify(samples)}`);
    }
  }, 240_000);
});
