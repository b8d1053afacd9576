import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../kernel/config.ts';
import { internalKey, type Caller } from '../../kernel/internal-auth.ts';
import { silentLogger } from '../../kernel/log.ts';
import { systemClock } from '../../kernel/clock.ts';
import { DEMO_AGENCIES, DEMO_ITEMS } from '../../kernel/demo.ts';
import type { Deps, RunningService } from '../../kernel/service.ts';
import { testCache, testDb, TEST_SECRET, type TestDb } from '../../test/support/infra.ts';
import { ANONYMOUS, PERSON, callSubgraph, entitiesQuery, type GraphQLResponse } from '../../test/support/subgraph.ts';
import { startEvaluationService } from './service.ts';

const key = internalKey(TEST_SECRET);
const AGENCY = DEMO_AGENCIES[1].code;
const ITEM = DEMO_ITEMS[0]!.id;
const OTHER_PERSON: Caller = { kind: 'person', sub: '7c1d5c4e-0000-4000-8000-0000000000ff', name: '李四' };
const STAFF: Caller = { kind: 'staff', sub: '5a1f0000-0000-4000-8000-000000000001', name: '王收件', agency: AGENCY, roles: ['receiver'] };
const OTHER_STAFF: Caller = { kind: 'staff', sub: '5a1f0000-0000-4000-8000-0000000000ff', name: '他人', agency: DEMO_AGENCIES[2].code, roles: ['decider'] };

let db: TestDb;
let cache: Awaited<ReturnType<typeof testCache>>;
let svc: RunningService;

/** Publish an event exactly as kernel/events.ts's outbox relay writes it. */
async function publish(type: string, payload: Record<string, unknown>, id: string = randomUUID()): Promise<string> {
  await cache.xAdd('cases', { id, type, occurredAt: new Date().toISOString(), payload: JSON.stringify(payload) });
  return id;
}

async function waitProcessed(eventId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { rows } = await db.query('select 1 from evaluation.processed_events where consumer = $1 and event_id = $2', ['evaluation', eventId]);
    if (rows.length > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`event ${eventId} not processed in time`);
}

function completedPayload(o: { caseId?: string; applicantId?: string; itemId?: string } = {}) {
  return {
    caseId: o.caseId ?? randomUUID(), caseNumber: `330100-2026-${Math.floor(Math.random() * 1e6)}`, itemId: o.itemId ?? ITEM,
    agencyCode: AGENCY, applicantId: o.applicantId ?? (PERSON as { sub: string }).sub, outcomeCode: '0', completedAt: '2026-03-02T08:00:00.000Z',
  };
}

/** A case completed through the real stream and consumer; returns its id. */
async function completedCase(o: { applicantId?: string; itemId?: string } = {}): Promise<string> {
  const p = completedPayload(o);
  await waitProcessed(await publish('case.completed', p));
  return p.caseId;
}

const count = async (table: 'evaluations' | 'rateable_cases', caseId?: string) => (await db.query<{ n: number }>(
  `select count(*)::int as n from evaluation.${table}${caseId ? ' where case_id = $1' : ''}`, caseId ? [caseId] : [])).rows[0]!.n;

interface Rated { id: string; caseId: string; level: string; label: string; gbCode: number; score: number; reason: string | null; channel: number; createdAt: string }
const RATE = 'mutation ($c: ID!, $l: SatisfactionLevel!, $r: String, $ch: Int) { rateCase(caseId: $c, level: $l, reason: $r, channel: $ch) { id caseId level label gbCode score reason channel createdAt } }';
const rate = (caller: Caller, caseId: string, level: string, reason?: string | null, channel?: number | null): Promise<GraphQLResponse<{ rateCase: Rated }>> =>
  callSubgraph(svc.url, key, caller, RATE, { c: caseId, l: level, ...(reason !== undefined ? { r: reason } : {}), ...(channel !== undefined ? { ch: channel } : {}) });

const caseEvaluation = (caller: Caller, caseId: string) => callSubgraph<{ _entities: Array<{ id: string; evaluation: Rated | null }> }>(
  svc.url, key, caller, entitiesQuery('... on Case { id evaluation { id level label gbCode score reason channel } }'), { representations: [{ __typename: 'Case', id: caseId }] });

beforeAll(async () => {
  db = await testDb();
  cache = await testCache();
  const deps: Deps = {
    config: loadConfig({}), secrets: { internalSecret: TEST_SECRET, keyPassphrase: TEST_SECRET, cookieKeys: [TEST_SECRET] },
    internalKey: key, db, cache, clock: systemClock, log: silentLogger(),
  };
  svc = await startEvaluationService(deps, { port: 0 });
});

afterAll(async () => {
  await svc?.close();
  await cache?.close();
  await db?.destroy();
});

describe('evaluation.consumer', () => {
  test('case.completed makes the case rateable by its applicant', async () => {
    const p = completedPayload();
    await waitProcessed(await publish('case.completed', p));
    const { rows } = await db.query<Record<string, unknown>>(
      'select case_id, case_number, applicant_id, item_id, agency_code, outcome_code, completed_at from evaluation.rateable_cases where case_id = $1', [p.caseId]);
    expect(rows).toHaveLength(1);
    expect({ ...rows[0], completed_at: new Date(rows[0]!.completed_at as string).toISOString() }).toEqual({
      case_id: p.caseId, case_number: p.caseNumber, applicant_id: p.applicantId, item_id: p.itemId, agency_code: p.agencyCode,
      outcome_code: '0', completed_at: p.completedAt,
    });
  });

  test('the same event delivered twice, and a second event for the same case, leave one rateable record', async () => {
    const p = completedPayload();
    const eventId = randomUUID();
    await publish('case.completed', p, eventId);
    await publish('case.completed', p, eventId);
    const other = await publish('case.completed', { ...p, completedAt: '2026-03-03T08:00:00.000Z' });
    await waitProcessed(other);
    // A later event proves both copies of the first were read before it.
    await completedCase();
    expect(await count('rateable_cases', p.caseId)).toBe(1);
    const { rows } = await db.query<{ completed_at: Date }>('select completed_at from evaluation.rateable_cases where case_id = $1', [p.caseId]);
    expect(new Date(rows[0]!.completed_at).toISOString()).toBe(p.completedAt);
  });

  test('other event types are passed over without a ledger row; a malformed case.completed is acknowledged without recording anything', async () => {
    const before = await count('rateable_cases');
    const caseId = randomUUID();
    const approved = await publish('case.approved', { ...completedPayload({}), caseId });
    await waitProcessed(await publish('case.completed', { caseId, itemId: ITEM }));
    expect(await count('rateable_cases')).toBe(before);
    // Same case, so handled in stream order: the approval was read first, and left no trace.
    expect((await db.query('select 1 from evaluation.processed_events where event_id = $1', [approved])).rowCount).toBe(0);
  });
});

describe('evaluation.rateCase (R-EV-4)', () => {
  test('the applicant rates a completed case: the level leaves mapped, and it is stored by label', async () => {
    const caseId = await completedCase();
    const r = await rate(PERSON, caseId, 'SATISFIED', '  办得快  ', 2);
    expect(r.errors).toBeUndefined();
    expect(r.data?.rateCase).toMatchObject({ caseId, level: 'SATISFIED', label: '满意', gbCode: 2, score: 4, reason: '办得快', channel: 2 });
    expect(Number.isNaN(Date.parse(r.data!.rateCase.createdAt))).toBe(false);
    const { rows } = await db.query<{ level: string }>('select level from evaluation.evaluations where case_id = $1', [caseId]);
    expect(rows).toEqual([{ level: 'SATISFIED' }]);
  });

  test('channel defaults to 1 (PC) and a blank reason on a good level is stored as null', async () => {
    const caseId = await completedCase();
    const r = await rate(PERSON, caseId, 'VERY_SATISFIED', '   ');
    expect(r.data?.rateCase).toMatchObject({ channel: 1, reason: null, score: 5, gbCode: 1 });
  });

  test.each([
    ['VERY_SATISFIED', '非常满意', 1, 5, null],
    ['SATISFIED', '满意', 2, 4, null],
    ['BASICALLY_SATISFIED', '基本满意', 3, 3, null],
    ['DISSATISFIED', '不满意', 4, 2, '等了很久'],
    ['VERY_DISSATISFIED', '非常不满意', 5, 1, '材料被退回三次'],
  ])('%s is answered as %s, gbCode %d, score %d', async (level, label, gbCode, score, reason) => {
    const caseId = await completedCase();
    const r = await rate(PERSON, caseId, level, reason);
    expect(r.errors).toBeUndefined();
    expect(r.data?.rateCase).toMatchObject({ level, label, gbCode, score, reason });
  });

  test('a reason of exactly 500 characters is accepted for a bad rating', async () => {
    const caseId = await completedCase();
    const r = await rate(PERSON, caseId, 'DISSATISFIED', '慢'.repeat(500));
    expect(r.errors).toBeUndefined();
  });

  test.each([
    ['anonymous', 'UNAUTHENTICATED', { caller: ANONYMOUS }],
    ['staff', 'FORBIDDEN', { caller: STAFF }],
    ['another person', 'CASE_NOT_RATEABLE', { caller: OTHER_PERSON }],
    ['an unknown case', 'CASE_NOT_RATEABLE', { unknownCase: true }],
    ['DISSATISFIED without a reason', 'REASON_REQUIRED', { level: 'DISSATISFIED' }],
    ['VERY_DISSATISFIED with a blank reason', 'REASON_REQUIRED', { level: 'VERY_DISSATISFIED', reason: ' \n ' }],
    ['DISSATISFIED with a 501-character reason', 'REASON_REQUIRED', { level: 'DISSATISFIED', reason: '慢'.repeat(501) }],
    ['SATISFIED with a 501-character reason', 'BAD_INPUT', { reason: '好'.repeat(501) }],
    ['channel 0', 'BAD_INPUT', { channel: 0 }],
    ['channel 8', 'BAD_INPUT', { channel: 8 }],
    ['channel null', 'BAD_INPUT', { channel: null }],
  ] as Array<[string, string, { caller?: Caller; unknownCase?: boolean; level?: string; reason?: string; channel?: number | null }]>)(
    '%s is refused with %s and nothing is stored', async (_what, code, o) => {
      const caseId = await completedCase();
      const r = await rate(o.caller ?? PERSON, o.unknownCase ? randomUUID() : caseId, o.level ?? 'SATISFIED', o.reason, o.channel);
      expect(r.errors?.[0]?.extensions?.code).toBe(code);
      expect(r.data ?? null).toBeNull();
      expect(await count('evaluations', caseId)).toBe(0);
    });

  test('a case that is not completed (only approved) cannot be rated', async () => {
    const caseId = randomUUID();
    await publish('case.approved', { ...completedPayload({}), caseId });
    await completedCase(); // published after it: the approval has been read
    const r = await rate(PERSON, caseId, 'SATISFIED');
    expect(r.errors?.[0]?.extensions?.code).toBe('CASE_NOT_RATEABLE');
    expect(await count('evaluations', caseId)).toBe(0);
  });

  test('a second rating is refused with ALREADY_RATED and the first is kept', async () => {
    const caseId = await completedCase();
    expect((await rate(PERSON, caseId, 'VERY_SATISFIED')).errors).toBeUndefined();
    const again = await rate(PERSON, caseId, 'VERY_DISSATISFIED', '改主意了');
    expect(again.errors?.[0]?.extensions?.code).toBe('ALREADY_RATED');
    const { rows } = await db.query<{ level: string }>('select level from evaluation.evaluations where case_id = $1', [caseId]);
    expect(rows).toEqual([{ level: 'VERY_SATISFIED' }]);
  });

  test('two concurrent ratings of one case: exactly one wins, the other gets ALREADY_RATED', async () => {
    const caseId = await completedCase();
    const results = await Promise.all([rate(PERSON, caseId, 'SATISFIED'), rate(PERSON, caseId, 'DISSATISFIED', '太慢')]);
    const codes = results.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK').sort();
    expect(codes).toEqual(['ALREADY_RATED', 'OK']);
    expect(await count('evaluations', caseId)).toBe(1);
  });
});

describe('evaluation.visibility', () => {
  let caseId: string;
  let evaluationId: string;

  beforeAll(async () => {
    caseId = await completedCase();
    evaluationId = (await rate(PERSON, caseId, 'DISSATISFIED', '窗口无人')).data!.rateCase.id;
  });

  test.each([
    ['the applicant', PERSON],
    ['staff of the case\'s agency', STAFF],
  ])('Case.evaluation is visible to %s', async (_who, caller) => {
    const r = await caseEvaluation(caller, caseId);
    expect(r.errors).toBeUndefined();
    expect(r.data?._entities[0]).toEqual({ id: caseId, evaluation: { id: evaluationId, level: 'DISSATISFIED', label: '不满意', gbCode: 4, score: 2, reason: '窗口无人', channel: 1 } });
  });

  test.each([
    ['another person', OTHER_PERSON],
    ['staff of another agency', OTHER_STAFF],
    ['an anonymous caller', ANONYMOUS],
  ])('Case.evaluation is null for %s', async (_who, caller) => {
    const r = await caseEvaluation(caller, caseId);
    expect(r.errors).toBeUndefined();
    expect(r.data?._entities[0]).toEqual({ id: caseId, evaluation: null });
  });

  test('an unrated case has a null evaluation, even for its applicant', async () => {
    const unrated = await completedCase();
    expect((await caseEvaluation(PERSON, unrated)).data?._entities[0]).toEqual({ id: unrated, evaluation: null });
  });

  test('an Evaluation reference resolves for the applicant and is null for others or when malformed', async () => {
    const q = entitiesQuery('... on Evaluation { id caseId score }');
    const reps = { representations: [{ __typename: 'Evaluation', id: evaluationId }, { __typename: 'Evaluation', id: 'junk' }] };
    expect((await callSubgraph<{ _entities: unknown[] }>(svc.url, key, PERSON, q, reps)).data?._entities)
      .toEqual([{ id: evaluationId, caseId, score: 2 }, null]);
    expect((await callSubgraph<{ _entities: unknown[] }>(svc.url, key, OTHER_PERSON, q, reps)).data?._entities).toEqual([null, null]);
  });
});

describe('evaluation.satisfaction', () => {
  test('Item.satisfaction averages the scores (5 = very satisfied), rounded to 2 decimals; public; null when unrated', async () => {
    const item = randomUUID();
    const unrated = randomUUID();
    for (const [level, reason] of [['VERY_SATISFIED', null], ['SATISFIED', null], ['DISSATISFIED', '太慢']] as const) {
      expect((await rate(PERSON, await completedCase({ itemId: item }), level, reason)).errors).toBeUndefined();
    }
    const r = await callSubgraph<{ _entities: unknown[] }>(svc.url, key, ANONYMOUS,
      entitiesQuery('... on Item { id satisfaction { average count } }'),
      { representations: [{ __typename: 'Item', id: item }, { __typename: 'Item', id: unrated }] });
    expect(r.errors).toBeUndefined();
    expect(r.data?._entities).toEqual([
      { id: item, satisfaction: { average: 3.67, count: 3 } },
      { id: unrated, satisfaction: { average: null, count: 0 } },
    ]);
  });
});

describe('evaluation.gateway', () => {
  test('a request without the gateway identity assertion is refused with 401 GATEWAY_IDENTITY_REQUIRED', async () => {
    const r = await callSubgraph(svc.url, null, PERSON, RATE, { c: randomUUID(), l: 'SATISFIED' });
    expect(r.status).toBe(401);
    expect(r.problem?.code).toBe('GATEWAY_IDENTITY_REQUIRED');
  });

  test('/healthz reports the database, the cache and the event loops', async () => {
    const res = await fetch(`${svc.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ service: 'evaluation', status: 'ok', checks: { db: 'ok', cache: 'ok', events: 'ok' } });
  });
});
