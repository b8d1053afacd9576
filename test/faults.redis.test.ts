/**
 * faults.redis: Redis loses all its data in the middle of a load of cases (a restart without
 * persistence), and the pipeline must finish every case by itself, each with one licence and one
 * completion. The loss is made by deleting every key under this test's own prefix (SCAN + DEL);
 * never FLUSHALL/FLUSHDB, other tests share the server. Then /healthz must say degraded while a
 * consumer cannot read its stream, and ok again once it can. On the embedded set-up (no
 * REDIS_URL) the same runs on the in-process substitute.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { loseEverything, testCache, testDb, type TestDb } from './support/infra.ts';
import { eventually } from './support/eventually.ts';
import { driveCases, pipelineState, startPipeline, type Pipeline } from './support/pipeline.ts';
import type { Cache } from '../kernel/cache.ts';
import { LICENCES_STREAM } from '../subgraphs/case/events.ts';

let db: TestDb;
let cache: Cache & { prefix: string };
let pipeline: Pipeline;

beforeAll(async () => {
  db = await testDb();
  cache = await testCache();
  pipeline = await startPipeline({ db, cache, claimIdleMs: 1000 });
}, 60_000);
afterAll(async () => {
  await pipeline?.close();
  await cache?.close();
  await db?.destroy();
});

const CASES = 40;

describe('faults.redis', () => {
  test('all keys lost under load: every case completes unattended, with one licence and one completion each', async () => {
    let lost: Promise<number> | undefined;
    const load = await driveCases(pipeline.caseService.url, pipeline.deps.internalKey, CASES, 8, randomUUID(), (approved) => {
      // A third of the way in: approvals on their way to the licence service, licences on their way back.
      if (approved === Math.floor(CASES / 3) && !lost) lost = loseEverything(cache);
    });
    expect(await lost).toBeGreaterThan(0);
    expect(load.failures).toEqual([]);
    expect(load.cases).toHaveLength(CASES);
    const done = await eventually(async () => {
      const s = await pipelineState(db, load.cases);
      return s.statuses.COMPLETED === CASES ? s : null;
    }, 90_000, 250).catch(async () => {
      const stuck = (await db.query<{ id: string }>("select id from cases.cases where id = any($1::uuid[]) and status <> 'COMPLETED'", [load.cases])).rows.map((r) => r.id);
      const outbox = (await db.query("select payload->>'caseId' as case_id, type, published_at is not null as published, acked_at is not null as acked, stream_id from cases.outbox where payload->>'caseId' = any($1::text[]) order by created_at", [stuck])).rows;
      const licences = (await db.query("select o.type, o.published_at is not null as published, o.acked_at is not null as acked, o.stream_id, o.payload->>'caseId' as case_id from licence.outbox o where o.payload->>'caseId' = any($1::text[])", [stuck])).rows;
      throw new Error(`not every case completed: ${JSON.stringify((await pipelineState(db, load.cases)).statuses)}; outbox ${JSON.stringify(outbox)}; licence outbox ${JSON.stringify(licences)}`);
    });
    expect(done.licencesPerCase).toEqual(new Array(CASES).fill(1));
    expect(done.completionsPerCase).toEqual(new Array(CASES).fill(1));
    // Events published again were passed over where they had been handled: no notice twice.
    await eventually(async () => pipeline.notices.filter((n) => n.startsWith('case.completed')).length >= CASES, 30_000);
    const twice = pipeline.notices.filter((n, i) => pipeline.notices.indexOf(n) !== i);
    expect(twice).toEqual([]);
  }, 150_000);

  test('/healthz says degraded (503) while a consumer cannot read its stream, ok again once it can', async () => {
    const health = async () => {
      const r = await fetch(`${pipeline.caseService.url}/healthz`);
      return { status: r.status, body: await r.json() as { status: string; checks: Record<string, string> } };
    };
    await eventually(async () => (await health()).status === 200, 10_000);
    // The stream the case service reads licences from, replaced by a plain value: reading it and
    // recreating its group both fail until the key is gone.
    await cache.del(LICENCES_STREAM);
    await cache.set(LICENCES_STREAM, 'not a stream');
    try {
      const degraded = await eventually(async () => { const h = await health(); return h.status === 503 ? h : null; }, 10_000);
      expect(degraded.body).toMatchObject({ status: 'degraded', checks: { db: 'ok', cache: 'ok', events: 'fail' } });
    } finally {
      await cache.del(LICENCES_STREAM);
    }
    const ok = await eventually(async () => { const h = await health(); return h.status === 200 ? h : null; }, 10_000);
    expect(ok.body).toMatchObject({ status: 'ok', checks: { events: 'ok' } });
  }, 60_000);
});
