import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../kernel/config.ts';
import { internalKey, type Caller } from '../../kernel/internal-auth.ts';
import { silentLogger } from '../../kernel/log.ts';
import { ManualClock } from '../../kernel/clock.ts';
import { DEMO_AGENCIES, DEMO_ITEMS } from '../../kernel/demo.ts';
import type { Deps, RunningService } from '../../kernel/service.ts';
import { eventually } from '../../test/support/eventually.ts';
import { testCache, testDb, TEST_SECRET, type TestDb } from '../../test/support/infra.ts';
import { ANONYMOUS, callSubgraph, entitiesQuery, type GraphQLResponse } from '../../test/support/subgraph.ts';
import { startEvaluationService } from './service.ts';
import { scanOverdue, type SupervisionLoop } from './supervision.ts';
import { maskName, maskText } from './masking.ts';
import { rank, score } from './rankings.ts';

const key = internalKey(TEST_SECRET);
const PROVINCE = DEMO_AGENCIES[0].code; // the platform operator here
const HZ: string = DEMO_AGENCIES[1].code;
const HR = DEMO_AGENCIES[2].code;
const FOOD = DEMO_ITEMS[0]!; // Hangzhou market supervision
const HR_ITEM = DEMO_ITEMS[2]!;
// Monday 2 March 2026, 10:00 China time.
const clock = new ManualClock('2026-03-02T10:00:00+08:00');

const person = (n: number, name = '张三丰'): Caller => ({ kind: 'person', sub: `7c1d5c4e-0000-4000-8000-${String(n).padStart(12, '0')}`, name, acr: 'urn:yiwang:loa:3' });
const staff = (role: 'receiver' | 'decider', agency: string = HZ): Caller => ({ kind: 'staff', sub: `5a1f0000-0000-4000-8000-${role === 'decider' ? '000000000002' : '000000000001'}`, name: role === 'decider' ? '陈决定' : '王收件', agency, roles: [role] });

let db: TestDb;
let cache: Awaited<ReturnType<typeof testCache>>;
let svc: RunningService;
let supervision: SupervisionLoop;

const call = <T = Record<string, unknown>>(caller: Caller, query: string, variables: Record<string, unknown> = {}) =>
  callSubgraph<T>(svc.url, key, caller, query, variables);
const codeOf = (r: GraphQLResponse<unknown>) => r.errors?.[0]?.extensions?.code ?? r.problem?.code;

async function publish(stream: string, type: string, payload: Record<string, unknown>): Promise<string> {
  const id = randomUUID();
  await cache.xAdd(stream, { id, type, occurredAt: new Date().toISOString(), payload: JSON.stringify(payload) });
  return id;
}
const processed = (id: string) => eventually(async () =>
  (await db.query('select 1 from evaluation.processed_events where event_id = $1', [id])).rows.length > 0);

const FIELDS = 'id kind agencyCode itemId topic content pageUrl public status authorName submittedAt dueAt answer answeredAt answerHours overdue version steps { action agencyCode actorName note }';
interface Fb {
  id: string; kind: string; agencyCode: string; itemId: string | null; topic: string | null; content: string; pageUrl: string | null; public: boolean;
  status: string; authorName: string | null; submittedAt: string; dueAt: string; answer: string | null; answeredAt: string | null;
  answerHours: number | null; overdue: boolean; version: number; steps: Array<{ action: string; agencyCode: string; actorName: string | null; note: string | null }>;
}
const COMPLAIN = `mutation ($i: ComplaintInput!) { submitComplaint(input: $i) { ${FIELDS} } }`;
const ASK = `mutation ($i: ConsultationInput!) { askConsultation(input: $i) { ${FIELDS} } }`;
const SUGGEST = `mutation ($i: SuggestionInput!) { submitSuggestion(input: $i) { ${FIELDS} } }`;
const ANSWER = `mutation ($id: ID!, $a: String!, $v: Int) { answerFeedback(id: $id, answer: $a, version: $v) { ${FIELDS} } }`;
const DISPATCH = `mutation ($id: ID!, $to: ID!, $n: String!) { dispatchComplaint(id: $id, agencyCode: $to, note: $n) { ${FIELDS} } }`;
const QUEUE = `query ($k: FeedbackKind, $s: FeedbackStatus, $f: Int, $a: String) { feedbackQueue(kind: $k, status: $s, first: $f, after: $a) { nodes { id } endCursor hasNextPage } }`;
const PUBLIC = `query ($k: FeedbackKind!, $ag: ID) { publicFeedback(kind: $k, agencyCode: $ag) { nodes { ${FIELDS} } } }`;

async function complain(caller: Caller, input: Record<string, unknown>) {
  return call<{ submitComplaint: Fb }>(caller, COMPLAIN, { i: { topic: 'EFFICIENCY', public: true, ...input } });
}
const feedbackRows = async () => (await db.query<{ n: number }>('select count(*)::int as n from evaluation.feedback')).rows[0]!.n;
const accountability = async (id: string) =>
  (await db.query<{ kind: string }>('select kind from evaluation.accountability where subject_id = $1', [id])).rows.map((r) => r.kind);

beforeAll(async () => {
  db = await testDb();
  cache = await testCache();
  const deps: Deps = {
    config: loadConfig({ EVALUATION_OPERATOR_AGENCY: PROVINCE, EVALUATION_SCAN_MS: '3600000' }),
    secrets: { internalSecret: TEST_SECRET, keyPassphrase: TEST_SECRET, cookieKeys: [TEST_SECRET] },
    internalKey: key, db, cache, clock, log: silentLogger(),
  };
  svc = await startEvaluationService(deps, { port: 0, onSupervision: (s: SupervisionLoop) => { supervision = s; } } as Parameters<typeof startEvaluationService>[1]);
  // The item replica, fed as the item service announces its items.
  let last = '';
  for (const i of DEMO_ITEMS) last = await publish('items', 'item.upserted', { id: i.id, name: i.name, agencyCode: i.agencyCode, agencyName: '某局' });
  await processed(last);
});

afterAll(async () => {
  await svc?.close();
  await cache?.close();
  await db?.destroy();
});

describe('evaluation.masking', () => {
  test('R-EV-1: names keep their first character; ID numbers, mobiles, landlines, e-mails and the author\'s name are hidden in text', () => {
    expect(maskName('张三')).toBe('张*');
    expect(maskName('欧阳娜娜')).toBe('欧***');
    expect(maskText('我是张三丰，身份证33010619900101123X，电话13800138000，座机0571-88888888，邮箱a.b@example.cn', ['张三丰']))
      .toBe('我是张**，身份证[证件号已隐藏]，电话138****8000，座机[电话已隐藏]，邮箱[邮箱已隐藏]');
    expect(maskText('办件号 3301002026000001234 不是手机号')).toContain('3301002026000001234'.slice(0, 4));
  });
});

describe('evaluation.complaints', () => {
  test('R-EV-1: a real-name complaint about an item goes to its agency, with its deadline; the author\'s name comes from the login', async () => {
    const r = await complain(person(1), { itemId: FOOD.id, content: '窗口排队两小时', idempotencyKey: 'c-1' });
    expect(r.errors).toBeUndefined();
    const c = r.data!.submitComplaint;
    expect(c).toMatchObject({ kind: 'COMPLAINT', agencyCode: FOOD.agencyCode, itemId: FOOD.id, topic: 'EFFICIENCY', status: 'OPEN', authorName: '张三丰', overdue: false });
    // 5 working days after Monday 2 March: the end of Monday 9 March (China time).
    expect(c.dueAt).toBe(new Date('2026-03-09T23:59:59.999+08:00').toISOString());
    expect(c.steps).toEqual([{ action: 'submit', agencyCode: HZ, actorName: '张三丰', note: null }]);
    // The same key again: the same complaint, nothing new stored.
    const before = await feedbackRows();
    expect((await complain(person(1), { itemId: FOOD.id, content: '窗口排队两小时', idempotencyKey: 'c-1' })).data!.submitComplaint.id).toBe(c.id);
    expect(codeOf(await complain(person(1), { itemId: FOOD.id, content: '另一件事', idempotencyKey: 'c-1' }))).toBe('BAD_INPUT');
    expect(await feedbackRows()).toBe(before);
  });

  test('R-EV-1 refusals: anonymous, staff, acting for a company, unknown agency or item, missing topic, empty or oversized text; nothing stored', async () => {
    const before = await feedbackRows();
    expect(codeOf(await complain(ANONYMOUS, { agencyCode: HZ, content: 'x' }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await complain(staff('decider'), { agencyCode: HZ, content: 'x' }))).toBe('FORBIDDEN');
    const acting = { ...(person(2) as Extract<Caller, { kind: 'person' }>), actingFor: { creditCode: '91330100MA27XL0E2Y', items: ['*'], delegationId: randomUUID() } } as unknown as Caller;
    expect(codeOf(await complain(acting, { agencyCode: HZ, content: 'x' }))).toBe('FORBIDDEN');
    expect(codeOf(await complain(person(2), { agencyCode: '91330100MA27XL0E2Y', content: 'x' }))).toBe('FEEDBACK_TARGET_UNKNOWN');
    expect(codeOf(await complain(person(2), { itemId: randomUUID(), content: 'x' }))).toBe('FEEDBACK_TARGET_UNKNOWN');
    expect(codeOf(await complain(person(2), { itemId: FOOD.id, agencyCode: HR, content: 'x' }))).toBe('BAD_INPUT');
    expect(codeOf(await complain(person(2), { content: 'x' }))).toBe('BAD_INPUT'); // no agency, no item
    expect(codeOf(await call(person(2), COMPLAIN, { i: { agencyCode: HZ, content: 'x', public: true, topic: 'NOPE' } }))).toBe('BAD_USER_INPUT'); // not in the enum
    expect(codeOf(await complain(person(2), { agencyCode: HZ, content: '   ' }))).toBe('BAD_INPUT');
    expect(codeOf(await complain(person(2), { agencyCode: HZ, content: '长'.repeat(2001) }))).toBe('BAD_INPUT');
    expect(await feedbackRows()).toBe(before);
  });

  test('R-EV-1: the agency\'s queue; only its decider answers, once; another agency sees nothing; a late answer is an accountability record', async () => {
    clock.set('2026-03-02T10:00:00+08:00');
    const c = (await complain(person(3), { agencyCode: HZ, content: '材料被要求重复提交' })).data!.submitComplaint;
    const queue = await call<{ feedbackQueue: { nodes: Array<{ id: string }> } }>(staff('receiver'), QUEUE, { k: 'COMPLAINT', s: 'OPEN' });
    expect(queue.data!.feedbackQueue.nodes.map((n) => n.id)).toContain(c.id);
    expect((await call<{ feedbackQueue: { nodes: unknown[] } }>(staff('decider', HR), QUEUE, { k: 'COMPLAINT' })).data!.feedbackQueue.nodes
      .map((n) => (n as { id: string }).id)).not.toContain(c.id);
    expect(codeOf(await call(staff('receiver'), ANSWER, { id: c.id, a: '已处理' }))).toBe('ROLE_REQUIRED');
    expect(codeOf(await call(staff('decider', HR), ANSWER, { id: c.id, a: '已处理' }))).toBe('FEEDBACK_NOT_FOUND');
    expect(codeOf(await call(person(3), ANSWER, { id: c.id, a: '已处理' }))).toBe('FEEDBACK_NOT_FOUND');
    expect(codeOf(await call(staff('decider'), ANSWER, { id: c.id, a: '已处理', v: c.version + 1 }))).toBe('CONFLICT');

    clock.set('2026-03-10T09:00:00+08:00'); // Tuesday: the deadline (end of Monday) has passed
    const done = await call<{ answerFeedback: Fb }>(staff('decider'), ANSWER, { id: c.id, a: '经核查，已约谈窗口人员并整改' });
    expect(done.errors).toBeUndefined();
    expect(done.data!.answerFeedback).toMatchObject({ status: 'ANSWERED', answer: '经核查，已约谈窗口人员并整改', overdue: true, answerHours: 191 });
    expect(await accountability(c.id)).toEqual(['COMPLAINT']);
    expect(codeOf(await call(staff('decider'), ANSWER, { id: c.id, a: '再答' }))).toBe('FEEDBACK_ANSWERED');
  });

  test('two deciders answering at once: one answer is stored, the other is refused', async () => {
    const c = (await complain(person(4), { agencyCode: HZ, content: '并发答复' })).data!.submitComplaint;
    const answers = await Promise.all([0, 1, 2].map((i) => call<{ answerFeedback: Fb }>(staff('decider'), ANSWER, { id: c.id, a: `答复${i}` })));
    expect(answers.filter((a) => !a.errors)).toHaveLength(1);
    expect(answers.filter((a) => a.errors).map(codeOf)).toEqual(['FEEDBACK_ANSWERED', 'FEEDBACK_ANSWERED']);
    const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from evaluation.feedback_steps where feedback_id = $1 and action = 'answer'`, [c.id]);
    expect(rows[0]!.n).toBe(1);
  });

  test('R-EV-1: the decider dispatches a complaint to the agency concerned, which then answers it', async () => {
    const c = (await complain(person(5), { agencyCode: HZ, content: '社保业务被推诿' })).data!.submitComplaint;
    expect(codeOf(await call(staff('decider'), DISPATCH, { id: c.id, to: HZ, n: '转' }))).toBe('BAD_INPUT');
    const moved = await call<{ dispatchComplaint: Fb }>(staff('decider'), DISPATCH, { id: c.id, to: HR, n: '属人社局职责' });
    expect(moved.data!.dispatchComplaint).toMatchObject({ agencyCode: HR, dueAt: c.dueAt });
    expect(moved.data!.dispatchComplaint.steps.map((s) => [s.action, s.agencyCode])).toEqual([['submit', HZ], ['dispatch', HR]]);
    expect(codeOf(await call(staff('decider'), ANSWER, { id: c.id, a: '不再是我们的' }))).toBe('FEEDBACK_NOT_FOUND');
    expect((await call<{ answerFeedback: Fb }>(staff('decider', HR), ANSWER, { id: c.id, a: '已办理' })).data!.answerFeedback.status).toBe('ANSWERED');
  });

  test('R-EV-1: published complaints hide the complainant (name masked, ID and phone numbers hidden); private ones are never published', async () => {
    const pub = (await complain(person(6, '李四光'), { agencyCode: HR, content: '李四光反映：身份证33010619900101123X 电话13912345678 办理社保卡慢', public: true })).data!.submitComplaint;
    const priv = (await complain(person(7), { agencyCode: HR, content: '不公开的投诉', public: false })).data!.submitComplaint;
    for (const c of [pub, priv]) await call(staff('decider', HR), ANSWER, { id: c.id, a: '已联系李四光先生处理' });
    const list = (await call<{ publicFeedback: { nodes: Fb[] } }>(ANONYMOUS, PUBLIC, { k: 'COMPLAINT', ag: HR })).data!.publicFeedback.nodes;
    const shown = list.find((n) => n.id === pub.id)!;
    expect(shown).toMatchObject({ authorName: '李**', content: '李**反映：身份证[证件号已隐藏] 电话139****5678 办理社保卡慢', answer: '已联系李**先生处理', steps: [] });
    expect(list.map((n) => n.id)).not.toContain(priv.id);
    // The same complaint through an entity reference: the published form for strangers, the full one for its author.
    const ref = (caller: Caller) => call<{ _entities: Array<Fb | null> }>(caller, entitiesQuery(`... on Feedback { ${FIELDS} }`), { representations: [{ __typename: 'Feedback', id: pub.id }, { __typename: 'Feedback', id: priv.id }] });
    expect((await ref(ANONYMOUS)).data!._entities.map((e) => e?.authorName ?? null)).toEqual(['李**', null]);
    expect((await ref(person(6, '李四光'))).data!._entities[0]!.content).toContain('33010619900101123X');
  });

  test('supervision: an unanswered complaint past its deadline gets one accountability record, whoever scans', async () => {
    clock.set('2026-03-02T10:00:00+08:00');
    const c = (await complain(person(8), { agencyCode: HZ, content: '没人理' })).data!.submitComplaint;
    clock.set('2026-03-11T10:00:00+08:00');
    // Two replicas scanning at once record the lapse once.
    const [a, b] = await Promise.all([scanOverdue(db, clock.now()), scanOverdue(db, clock.now())]);
    expect([...a, ...b].filter((id) => id === c.id)).toEqual([c.id]);
    await supervision.tick();
    expect(await accountability(c.id)).toEqual(['COMPLAINT']);
    const mine = await call<{ myFeedback: { nodes: Fb[] } }>(person(8), `{ myFeedback(kind: COMPLAINT) { nodes { ${FIELDS} } } }`);
    expect(mine.data!.myFeedback.nodes[0]).toMatchObject({ id: c.id, overdue: true, status: 'OPEN' });
  });
});

describe('evaluation.consultations and suggestions', () => {
  test('R-EV-2: a question on an item page goes to the item\'s agency; the answer time is recorded', async () => {
    clock.set('2026-03-03T09:00:00+08:00');
    const q = (await call<{ askConsultation: Fb }>(person(9), ASK, { i: { itemId: HR_ITEM.id, content: '社保卡补办需要什么材料？' } })).data!.askConsultation;
    expect(q).toMatchObject({ kind: 'CONSULTATION', agencyCode: HR_ITEM.agencyCode, public: false });
    expect(q.dueAt).toBe(new Date('2026-03-06T23:59:59.999+08:00').toISOString()); // 3 working days
    clock.set('2026-03-03T11:30:00+08:00');
    const a = (await call<{ answerFeedback: Fb }>(staff('receiver', HR), ANSWER, { id: q.id, a: '身份证原件即可' })).data!.answerFeedback;
    expect(a).toMatchObject({ status: 'ANSWERED', answerHours: 2.5, overdue: false });
  });

  test('R-EV-3: a suggestion from any page; with no agency it goes to the platform operator; published anonymously', async () => {
    const s = (await call<{ submitSuggestion: Fb }>(person(10, '王五'), SUGGEST, { i: { content: '希望增加夜间服务，联系我13800001111', pageUrl: '/guide/search?q=食品' } })).data!.submitSuggestion;
    expect(s).toMatchObject({ kind: 'SUGGESTION', agencyCode: PROVINCE, pageUrl: '/guide/search?q=食品', public: true });
    expect(codeOf(await call(person(10), SUGGEST, { i: { content: 'x', pageUrl: 'javascript:alert(1)' } }))).toBe('BAD_INPUT');
    await call(staff('receiver', PROVINCE), ANSWER, { id: s.id, a: '感谢王五的建议，已纳入计划' });
    const shown = (await call<{ publicFeedback: { nodes: Fb[] } }>(ANONYMOUS, PUBLIC, { k: 'SUGGESTION' })).data!.publicFeedback.nodes.find((n) => n.id === s.id)!;
    expect(shown).toMatchObject({ authorName: null, pageUrl: null, content: '希望增加夜间服务，联系我138****1111', answer: '感谢王*的建议，已纳入计划' });
  });

  test('queues page with cursors, oldest first, without repeats', async () => {
    for (let i = 0; i < 5; i++) await call(person(11), ASK, { i: { agencyCode: HZ, content: `问题${i}` } });
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: GraphQLResponse<{ feedbackQueue: { nodes: Array<{ id: string }>; endCursor: string | null; hasNextPage: boolean } }> =
        await call(staff('receiver'), QUEUE, { k: 'CONSULTATION', s: 'OPEN', f: 2, a: after });
      seen.push(...page.data!.feedbackQueue.nodes.map((n) => n.id));
      if (!page.data!.feedbackQueue.hasNextPage) break;
      after = page.data!.feedbackQueue.endCursor;
    }
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(new Set(seen).size).toBe(seen.length);
    expect(codeOf(await call(staff('receiver'), QUEUE, { a: 'bm9wZQ' }))).toBe('BAD_INPUT');
    expect(codeOf(await call(staff('receiver'), QUEUE, { f: 1000 }))).toBe('BAD_INPUT');
  });
});

// ---- ratings follow-up and rankings: cases completed through the real stream ----

async function completed(o: { agency?: string; item?: string; applicant: Caller; mode?: string; visits?: number; overdue?: boolean; at?: string }): Promise<string> {
  const caseId = randomUUID();
  const id = await publish('cases', 'case.completed', {
    caseId, caseNumber: `330100-2026-${caseId.slice(0, 6)}`, itemId: o.item ?? FOOD.id, agencyCode: o.agency ?? HZ,
    applicantId: (o.applicant as { sub: string }).sub, outcomeCode: '0', completedAt: o.at ?? clock.now().toISOString(),
    mode: o.mode ?? 'ONLINE', visits: o.visits ?? 0, overdue: o.overdue ?? false, submittedAt: '2026-03-01T00:00:00.000Z',
  });
  await processed(id);
  return caseId;
}
const RATE = 'mutation ($c: ID!, $l: SatisfactionLevel!, $r: String) { rateCase(caseId: $c, level: $l, reason: $r) { id followUp { state dueAt } } }';
const FU = 'state dueAt overdue verificationNote measures answer answeredAt version evaluation { level reason }';
const VERIFY = `mutation ($e: ID!, $u: Boolean!, $n: String!, $v: Int) { verifyBadRating(evaluationId: $e, upheld: $u, note: $n, version: $v) { ${FU} } }`;
const RECTIFY = `mutation ($e: ID!, $m: String!, $a: String!) { rectifyBadRating(evaluationId: $e, measures: $m, answer: $a) { ${FU} } }`;

describe('evaluation.followUp', () => {
  test('R-EV-4: a bad rating is verified by the agency\'s decider, rectified and answered; the citizen reads the answer on the rating', async () => {
    clock.set('2026-03-02T10:00:00+08:00');
    const citizen = person(20);
    const caseId = await completed({ applicant: citizen });
    const good = await call<{ rateCase: { followUp: unknown } }>(citizen, RATE, { c: await completed({ applicant: citizen }), l: 'SATISFIED' });
    expect(good.data!.rateCase.followUp).toBeNull();
    const bad = await call<{ rateCase: { id: string; followUp: { state: string; dueAt: string } } }>(citizen, RATE, { c: caseId, l: 'DISSATISFIED', r: '来回跑了三次' });
    expect(bad.data!.rateCase.followUp).toEqual({ state: 'VERIFYING', dueAt: new Date('2026-03-23T23:59:59.999+08:00').toISOString() }); // 15 working days
    const e = bad.data!.rateCase.id;

    expect(codeOf(await call(staff('receiver'), VERIFY, { e, u: true, n: '属实' }))).toBe('ROLE_REQUIRED');
    expect(codeOf(await call(staff('decider', HR), VERIFY, { e, u: true, n: '属实' }))).toBe('FOLLOW_UP_NOT_FOUND');
    expect(codeOf(await call(citizen, VERIFY, { e, u: true, n: '属实' }))).toBe('FOLLOW_UP_NOT_FOUND');
    expect(codeOf(await call(staff('decider'), RECTIFY, { e, m: '整改', a: '答复' }))).toBe('FOLLOW_UP_STATE_INVALID');
    expect(codeOf(await call(staff('decider'), VERIFY, { e, u: true, n: '   ' }))).toBe('BAD_INPUT');

    const queue = await call<{ followUpQueue: Array<{ evaluation: { reason: string } }> }>(staff('decider'), `{ followUpQueue { ${FU} } }`);
    expect(queue.data!.followUpQueue.map((f) => f.evaluation.reason)).toContain('来回跑了三次');

    const v = await call<{ verifyBadRating: { state: string; version: number } }>(staff('decider'), VERIFY, { e, u: true, n: '经核实属实' });
    expect(v.data!.verifyBadRating.state).toBe('RECTIFYING');
    clock.set('2026-03-10T10:00:00+08:00');
    const r = await call<{ rectifyBadRating: Record<string, unknown> }>(staff('decider'), RECTIFY, { e, m: '推行材料一次告知', a: '已整改：材料一次告知，感谢监督' });
    expect(r.data!.rectifyBadRating).toMatchObject({ state: 'RECTIFIED', overdue: false, answer: '已整改：材料一次告知，感谢监督', measures: '推行材料一次告知' });
    const mine = await call<{ _entities: Array<{ evaluation: { followUp: { state: string; answer: string } } }> }>(citizen,
      entitiesQuery('... on Case { evaluation { followUp { state answer } } }'), { representations: [{ __typename: 'Case', id: caseId }] });
    expect(mine.data!._entities[0]!.evaluation.followUp).toEqual({ state: 'RECTIFIED', answer: '已整改：材料一次告知，感谢监督' });
    // Strangers do not see the rating, so not its follow-up either.
    const stranger = await call<{ _entities: Array<{ evaluation: unknown }> }>(person(21),
      entitiesQuery('... on Case { evaluation { followUp { state } } }'), { representations: [{ __typename: 'Case', id: caseId }] });
    expect(stranger.data!._entities[0]!.evaluation).toBeNull();
  });

  test('R-EV-4: not upheld, with the reason as the answer; concurrent deciders get one step; late follow-ups are accountable; the summary is public', async () => {
    clock.set('2026-03-02T10:00:00+08:00');
    const citizen = person(22);
    const rated = async () => (await call<{ rateCase: { id: string } }>(citizen, RATE, { c: await completed({ applicant: citizen, agency: HR, item: HR_ITEM.id }), l: 'VERY_DISSATISFIED', r: '态度差' })).data!.rateCase.id;
    const a = await rated(), b = await rated(), c = await rated(), d = await rated();
    const notUpheld = await call<{ verifyBadRating: { state: string; answer: string } }>(staff('decider', HR), VERIFY, { e: a, u: false, n: '经调取录像，窗口人员按规定办理' });
    expect(notUpheld.data!.verifyBadRating).toMatchObject({ state: 'NOT_UPHELD', answer: '经调取录像，窗口人员按规定办理' });
    // Two deciders verifying one rating at once: one step is taken, the other is refused.
    const both = await Promise.all([
      call(staff('decider', HR), VERIFY, { e: d, u: true, n: '属实（甲）' }),
      call(staff('decider', HR), VERIFY, { e: d, u: true, n: '属实（乙）' }),
    ]);
    expect(both.filter((x) => !x.errors)).toHaveLength(1);
    expect(codeOf(both.find((x) => x.errors)!)).toBe('FOLLOW_UP_STATE_INVALID');

    await call(staff('decider', HR), VERIFY, { e: b, u: true, n: '属实' });
    clock.set('2026-03-25T10:00:00+08:00'); // past the 15 working days (end of 23 March)
    expect((await supervision.tick()).overdue.sort()).toEqual(expect.arrayContaining([b, c, d].sort()));
    const late = await call<{ rectifyBadRating: { overdue: boolean; state: string } }>(staff('decider', HR), RECTIFY, { e: b, m: '培训', a: '已整改' });
    expect(late.data!.rectifyBadRating).toEqual(expect.objectContaining({ state: 'RECTIFIED', overdue: true }));
    expect(await accountability(b)).toEqual(['RATING_FOLLOW_UP']); // once, although the scan and the late step both saw it

    const summary = await call<{ followUpSummary: Record<string, number> }>(ANONYMOUS, `{ followUpSummary(agencyCode: "${HR}") { badRatings verifying rectifying rectified notUpheld answeredOnTime overdue } }`);
    expect(summary.data!.followUpSummary).toEqual({ badRatings: 4, verifying: 1, rectifying: 1, rectified: 1, notUpheld: 1, answeredOnTime: 1, overdue: 3 });
  });
});

describe('evaluation.rankings', () => {
  test('score and rank: the formula weighs only the indicators present; equal scores share a rank', () => {
    const none = { cases: 0, onlineRate: null, onTimeRate: null, satisfaction: null, ratings: 0, complaints: 0, complaintOnTimeRate: null, complaintAnswerHours: null, visitsPerCase: null };
    expect(score(none)).toBeNull();
    expect(score({ ...none, onlineRate: 1, onTimeRate: 1, satisfaction: 5, complaintOnTimeRate: 1, visitsPerCase: 0 })).toBe(100);
    expect(score({ ...none, onlineRate: 0.5 })).toBe(50);
    expect(score({ ...none, onlineRate: 1, satisfaction: 1 })).toBe(50);
    expect(rank([{ agencyCode: 'B', score: 80 }, { agencyCode: 'A', score: 90 }, { agencyCode: 'C', score: 80 }, { agencyCode: 'D', score: 10 }]).map((r) => [r.agencyCode, r.rank]))
      .toEqual([['A', 1], ['B', 2], ['C', 2], ['D', 4]]);
  });

  test('R-EV-5: agencies ranked from completed cases, ratings and complaints, once per period; Agency.ranking and the public board', async () => {
    clock.set('2026-04-10T10:05:00+08:00');
    const p = person(30);
    // Hangzhou market supervision: all online, on time, no visits, very satisfied.
    for (let i = 0; i < 2; i++) {
      const id = await completed({ applicant: p, agency: HZ, mode: 'ONLINE', visits: 0 });
      await call(p, RATE, { c: id, l: 'VERY_SATISFIED' });
    }
    // HR: half online, one late, one visit each, dissatisfied.
    await completed({ applicant: p, agency: HR, item: HR_ITEM.id, mode: 'ONLINE', visits: 1 });
    const late = await completed({ applicant: p, agency: HR, item: HR_ITEM.id, mode: 'PICKUP_VERIFY', visits: 1, overdue: true });
    await call(p, RATE, { c: late, l: 'DISSATISFIED', r: '超期' });

    clock.set('2026-04-10T10:31:00+08:00'); // a new 30-minute period has begun
    const first = await supervision.tick();
    expect(first.ranked).toBe(true);
    expect((await supervision.tick()).ranked).toBe(false); // the same period is not computed twice
    const board = (await call<{ rankingBoard: { periodEnd: string; formula: string; entries: Array<Record<string, unknown> & { agency: { code: string } }> } }>(ANONYMOUS,
      '{ rankingBoard { periodStart periodEnd computedAt formula entries { agency { code } rank score cases onlineRate onTimeRate satisfaction ratings complaints visitsPerCase } } }')).data!.rankingBoard;
    expect(board.periodEnd).toBe(new Date('2026-04-10T10:30:00+08:00').toISOString());
    expect(board.formula).toContain('全程网办率');
    const hz = board.entries.find((e) => e.agency.code === HZ)!;
    const hr = board.entries.find((e) => e.agency.code === HR)!;
    expect(hz).toMatchObject({ rank: 1, cases: 2, onlineRate: 1, onTimeRate: 1, satisfaction: 5, visitsPerCase: 0 });
    expect(hr).toMatchObject({ cases: 2, onlineRate: 0.5, onTimeRate: 0.5, satisfaction: 2, visitsPerCase: 1 });
    expect(hr.rank as number).toBeGreaterThan(1);
    expect(hz.score as number).toBeGreaterThan(hr.score as number);
    const rows = await db.query<{ n: number }>('select count(*)::int as n from evaluation.rankings where period_end = $1', [board.periodEnd]);
    expect(rows.rows[0]!.n).toBe(board.entries.length);

    const viaAgency = await call<{ _entities: Array<{ ranking: { rank: number; score: number } | null }> }>(ANONYMOUS,
      entitiesQuery('... on Agency { ranking { rank score } }'), { representations: [{ __typename: 'Agency', code: HZ }, { __typename: 'Agency', code: '91330100MA27XL0E2Y' }] });
    expect(viaAgency.data!._entities).toEqual([{ ranking: { rank: 1, score: hz.score } }, { ranking: null }]);
  });
});
