import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../kernel/config.ts';
import { internalKey, type Caller } from '../../kernel/internal-auth.ts';
import { silentLogger } from '../../kernel/log.ts';
import { ManualClock } from '../../kernel/clock.ts';
import { openCache, type Cache } from '../../kernel/cache.ts';
import { DEMO_AGENCIES, DEMO_ITEMS } from '../../kernel/demo.ts';
import type { Deps, RunningService } from '../../kernel/service.ts';
import { eventually } from '../../test/support/eventually.ts';
import { testCache, testDb, TEST_SECRET, type TestDb } from '../../test/support/infra.ts';
import { ANONYMOUS, callSubgraph, type GraphQLResponse } from '../../test/support/subgraph.ts';
import { openSse, type SseStream } from '../../test/support/sse.ts';
import { startEvaluationService } from './service.ts';
import { indicators, score } from './rankings.ts';

const key = internalKey(TEST_SECRET);
const HZ: string = DEMO_AGENCIES[1].code;
const HR = DEMO_AGENCIES[2].code;
const FOOD = DEMO_ITEMS[0]!; // Hangzhou market supervision
// Monday 2 March 2026, 10:00 China time.
const clock = new ManualClock('2026-03-02T10:00:00+08:00');

const person = (n: number, name = '张三丰'): Caller => ({ kind: 'person', sub: `7c1d5c4e-0000-4000-8000-${String(n).padStart(12, '0')}`, name, acr: 'urn:yiwang:loa:3' });
const staff = (n: number, name: string, agency: string = HZ): Caller => ({ kind: 'staff', sub: `5a1f0000-0000-4000-8000-${String(n).padStart(12, '0')}`, name, agency, roles: ['receiver'] });
const CITIZEN = person(1);
const AGENT = staff(1, '王收件');
const COLLEAGUE = staff(2, '李受理');
const OTHER_AGENCY = staff(3, '赵人社', HR);

let db: TestDb;
let cacheA: Cache & { prefix: string };
let cacheB: Cache;
/** Two evaluation processes over one database and one Redis (prefix), as in production. */
let a: RunningService;
let b: RunningService;
const streams: SseStream[] = [];

const call = <T = Record<string, unknown>>(svc: RunningService, caller: Caller, query: string, variables: Record<string, unknown> = {}) =>
  callSubgraph<T>(svc.url, key, caller, query, variables);
const codeOf = (r: GraphQLResponse<unknown>) => r.errors?.[0]?.extensions?.code ?? r.problem?.code;

const CHAT = 'id status authorName staffName agencyCode firstAnswerAt firstAnswerSeconds closedAt messages { seq sender senderName text }';
type Chat = { id: string; status: string; authorName: string; staffName: string | null; agencyCode: string; firstAnswerSeconds: number | null;
  messages: Array<{ seq: number; sender: string; senderName: string; text: string }> };
const OPEN = `mutation ($i: ID!, $t: String) { openChat(itemId: $i, text: $t) { ${CHAT} } }`;
const SEND = 'mutation ($c: ID!, $t: String!) { sendChatMessage(chatId: $c, text: $t) { seq sender senderName text } }';
const CLOSE = `mutation ($id: ID!) { closeChat(id: $id) { ${CHAT} } }`;
const TICKET = 'mutation ($c: ID) { chatStreamTicket(chatId: $c) { ticket expiresAt path } }';
const QUEUE = 'query ($s: ChatStatus) { chatQueue(status: $s) { id authorName status } }';

async function stream(svc: RunningService, caller: Caller, chatId: string | null, after = 0): Promise<SseStream> {
  const t = await call<{ chatStreamTicket: { ticket: string; path: string } }>(svc, caller, TICKET, { c: chatId });
  expect(t.errors).toBeUndefined();
  const s = await openSse(`${svc.url}${t.data!.chatStreamTicket.path}?after=${after}`, { authorization: `Bearer ${t.data!.chatStreamTicket.ticket}` });
  streams.push(s);
  return s;
}
const message = (seq: number) => (e: { event: string; data: string }) => e.event === 'message' && (JSON.parse(e.data) as { seq: number }).seq === seq;
const status = (s: string) => (e: { event: string; data: string }) => e.event === 'status' && (JSON.parse(e.data) as { status: string }).status === s;

beforeAll(async () => {
  db = await testDb();
  cacheA = await testCache();
  // The second process's own connection to the same Redis (the in-process stand-in is one object).
  cacheB = cacheA.kind === 'redis' ? await openCache({ url: process.env.REDIS_URL, prefix: cacheA.prefix }) : cacheA;
  const deps = (cache: Cache): Deps => ({
    config: loadConfig({ EVALUATION_SCAN_MS: '3600000' }),
    secrets: { internalSecret: TEST_SECRET, keyPassphrase: TEST_SECRET, cookieKeys: [TEST_SECRET] },
    internalKey: key, db, cache, clock, log: silentLogger(),
  });
  a = await startEvaluationService(deps(cacheA), { port: 0 });
  b = await startEvaluationService(deps(cacheB), { port: 0 });
  // The item replica, fed as the item service announces its items.
  let last = '';
  for (const i of DEMO_ITEMS) {
    last = randomUUID();
    await cacheA.xAdd('items', { id: last, type: 'item.upserted', occurredAt: new Date().toISOString(), payload: JSON.stringify({ id: i.id, name: i.name, agencyCode: i.agencyCode, agencyName: '某局' }) });
  }
  await eventually(async () => (await db.query('select 1 from evaluation.processed_events where event_id = $1', [last])).rows.length > 0);
});

afterAll(async () => {
  for (const s of streams) s.close();
  await a?.close();
  await b?.close();
  if (cacheB !== cacheA) await cacheB?.close();
  await cacheA?.close();
  await db?.destroy();
});

describe('live chat (R-EV-2)', () => {
  let chatId = '';

  test('R-EV-2: a chat opened on an item waits in its agency\'s queue, visible to that agency\'s staff and its author only', async () => {
    const queue = await stream(a, AGENT, null);
    await queue.next((e) => e.event === 'queue'); // the initial state
    const r = await call<{ openChat: Chat }>(b, CITIZEN, OPEN, { i: FOOD.id, t: '请问食品经营许可需要哪些材料？' });
    expect(r.errors).toBeUndefined();
    chatId = r.data!.openChat.id;
    expect(r.data!.openChat).toMatchObject({ status: 'WAITING', authorName: '张三丰', staffName: null, agencyCode: HZ, firstAnswerSeconds: null });
    expect(r.data!.openChat.messages).toEqual([{ seq: 1, sender: 'CITIZEN', senderName: '张三丰', text: '请问食品经营许可需要哪些材料？' }]);
    // The queue stream on the other process heard of it (Redis pub/sub).
    await queue.next((e) => e.event === 'queue');
    expect((await call<{ chatQueue: Array<{ id: string }> }>(a, AGENT, QUEUE)).data?.chatQueue.map((c) => c.id)).toEqual([chatId]);
    expect((await call<{ chatQueue: unknown[] }>(a, OTHER_AGENCY, QUEUE)).data?.chatQueue).toEqual([]);
    for (const who of [OTHER_AGENCY, person(2, '李四')]) {
      expect((await call<{ chat: unknown }>(a, who, 'query ($id: ID!) { chat(id: $id) { id } }', { id: chatId })).data?.chat).toBeNull();
      expect(codeOf(await call(a, who, TICKET, { c: chatId }))).toBe('CHAT_NOT_FOUND');
      expect(codeOf(await call(a, who, SEND, { c: chatId, t: '你好' }))).toBe('CHAT_NOT_FOUND');
    }
    expect(codeOf(await call(a, ANONYMOUS, OPEN, { i: FOOD.id }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await call(a, AGENT, OPEN, { i: FOOD.id }))).toBe('FORBIDDEN');
    expect(codeOf(await call(a, CITIZEN, OPEN, { i: randomUUID() }))).toBe('FEEDBACK_TARGET_UNKNOWN');
    expect(codeOf(await call(a, CITIZEN, SEND, { c: chatId, t: '  ' }))).toBe('BAD_INPUT');
    expect(codeOf(await call(a, CITIZEN, SEND, { c: chatId, t: '字'.repeat(1001) }))).toBe('BAD_INPUT');
  });

  test('R-EV-2: messages flow both ways live across two processes; the first staff answer takes the chat and its time is recorded', async () => {
    // The person listens on process B, the agent on process A.
    const mine = await stream(b, CITIZEN, chatId);
    const theirs = await stream(a, AGENT, chatId);
    expect(mine.contentType).toMatch(/^text\/event-stream/);
    expect(JSON.parse((await mine.next(message(1))).data)).toMatchObject({ sender: 'CITIZEN', text: '请问食品经营许可需要哪些材料？' });
    await mine.next(status('WAITING'));
    await theirs.next(message(1));

    clock.advance(90_000);
    const answer = await call<{ sendChatMessage: { seq: number } }>(a, AGENT, SEND, { c: chatId, t: '您好，需要申请书、营业执照和设备布局图。' });
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.sendChatMessage.seq).toBe(2);
    expect(JSON.parse((await mine.next(status('ACTIVE'))).data)).toMatchObject({ staffName: '王收件' });
    expect(JSON.parse((await mine.next(message(2))).data)).toMatchObject({ sender: 'STAFF', senderName: '王收件', text: '您好，需要申请书、营业执照和设备布局图。' });

    clock.advance(30_000);
    expect((await call(b, CITIZEN, SEND, { c: chatId, t: '营业执照可以用电子证照吗？' })).errors).toBeUndefined();
    expect(JSON.parse((await theirs.next(message(3))).data)).toMatchObject({ sender: 'CITIZEN', text: '营业执照可以用电子证照吗？' });
    expect((await call(a, AGENT, SEND, { c: chatId, t: '可以，授权调用即可。' })).errors).toBeUndefined();
    await mine.next(message(4));

    // One member of staff per chat: a colleague can read it but not answer or take it.
    expect(codeOf(await call(b, COLLEAGUE, SEND, { c: chatId, t: '我来回答' }))).toBe('CHAT_TAKEN');
    expect(codeOf(await call(b, COLLEAGUE, 'mutation ($id: ID!) { takeChat(id: $id) { id } }', { id: chatId }))).toBe('CHAT_TAKEN');
    const seen = await call<{ chat: Chat }>(b, COLLEAGUE, `query ($id: ID!) { chat(id: $id) { ${CHAT} } }`, { id: chatId });
    expect(seen.data?.chat).toMatchObject({ status: 'ACTIVE', staffName: '王收件', firstAnswerSeconds: 90 });
    expect(seen.data?.chat.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);

    // A stream reopened after message 2 replays only what came after.
    const again = await stream(a, CITIZEN, chatId, 2);
    await again.next(message(3));
    await again.next(message(4));
    await again.next(status('ACTIVE'));
    expect(again.events.filter((e) => e.event === 'message').map((e) => (JSON.parse(e.data) as { seq: number }).seq)).toEqual([3, 4]);
  });

  test('R-EV-2: closing keeps the transcript and makes a consultation answered at the first answer; the ranking counts its answer time', async () => {
    const mine = await stream(b, CITIZEN, chatId, 4);
    await mine.next(status('ACTIVE'));
    clock.advance(60_000);
    const closed = await call<{ closeChat: Chat }>(a, CITIZEN, CLOSE, { id: chatId });
    expect(closed.errors).toBeUndefined();
    expect(closed.data?.closeChat.status).toBe('CLOSED');
    await mine.next(status('CLOSED'));
    await mine.ended;
    expect(codeOf(await call(a, CITIZEN, SEND, { c: chatId, t: '还在吗' }))).toBe('CHAT_CLOSED');

    const r = await call<{ chat: { consultation: { kind: string; status: string; agencyCode: string; itemId: string; content: string; answer: string; answerHours: number;
      submittedAt: string; answeredAt: string; chat: { messages: unknown[] } } } }>(a, CITIZEN,
      'query ($id: ID!) { chat(id: $id) { consultation { kind status agencyCode itemId content answer answerHours submittedAt answeredAt chat { messages { seq } } } } }', { id: chatId });
    expect(r.errors).toBeUndefined();
    const c = r.data!.chat.consultation;
    expect(c).toMatchObject({ kind: 'CONSULTATION', status: 'ANSWERED', agencyCode: HZ, itemId: FOOD.id });
    expect(c.content).toContain('请问食品经营许可需要哪些材料？\n营业执照可以用电子证照吗？');
    expect(c.answer).toBe('您好，需要申请书、营业执照和设备布局图。\n可以，授权调用即可。');
    expect(new Date(c.answeredAt).getTime() - new Date(c.submittedAt).getTime()).toBe(90_000);
    expect(c.chat.messages).toHaveLength(4);
    // The transcript is append-only.
    await expect(db.query('update evaluation.chat_messages set text = $2 where chat_id = $1', [chatId, 'x'])).rejects.toThrow(/append-only/);
    await expect(db.query('delete from evaluation.chat_messages where chat_id = $1', [chatId])).rejects.toThrow(/append-only/);

    const now = clock.now();
    const hz = (await indicators(db, new Date(now.getTime() - 86_400_000), new Date(now.getTime() + 1000))).get(HZ)!;
    expect(hz).toMatchObject({ consultations: 1, consultationAnswerMinutes: 1.5 });
    // 1.5 minutes to the first answer: almost the whole consultation indicator.
    expect(score(hz)).toBeCloseTo(100 * (1 - 1.5 / 60 / 24), 2);
  });

  test('R-EV-2: a chat nobody answered becomes an open consultation with its deadline; forged, expired or foreign tickets are refused', async () => {
    const open = await call<{ openChat: Chat }>(b, CITIZEN, OPEN, { i: FOOD.id, t: '周末可以办理吗？' });
    const id = open.data!.openChat.id;
    const t = await call<{ chatStreamTicket: { ticket: string } }>(a, CITIZEN, TICKET, { c: id });
    const ticket = t.data!.chatStreamTicket.ticket;
    const [body, sig] = ticket.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${Buffer.from(JSON.stringify({ ...claims, exp: Number(claims.exp) + 3600 })).toString('base64url')}.${sig}`;
    for (const bad of [forged, 'garbage', `${body}.${Buffer.alloc(32).toString('base64url')}`]) {
      const s = await openSse(`${a.url}/chat/stream`, { authorization: `Bearer ${bad}` });
      expect({ status: s.status, code: s.problem?.code }).toEqual({ status: 401, code: 'CHAT_TICKET_INVALID' });
    }
    expect((await openSse(`${a.url}/chat/stream`)).problem?.code).toBe('CHAT_TICKET_INVALID');
    // A person's ticket is not a queue ticket; a queue ticket is for staff.
    expect(codeOf(await call(a, CITIZEN, TICKET, {}))).toBe('FORBIDDEN');
    clock.advance(61_000);
    const late = await openSse(`${a.url}/chat/stream`, { authorization: `Bearer ${ticket}` });
    expect(late.problem?.code).toBe('CHAT_TICKET_INVALID');

    const closed = await call<{ closeChat: { consultation: { status: string; dueAt: string; answer: string | null } } }>(a, CITIZEN,
      'mutation ($id: ID!) { closeChat(id: $id) { consultation { status dueAt answer } } }', { id });
    expect(closed.errors).toBeUndefined();
    expect(closed.data?.closeChat.consultation).toMatchObject({ status: 'OPEN', answer: null });
    expect(new Date(closed.data!.closeChat.consultation.dueAt).getTime()).toBeGreaterThan(clock.now().getTime());
    // It is in the agency's consultation queue, to be answered like any other.
    const q = await call<{ feedbackQueue: { nodes: Array<{ id: string; kind: string }> } }>(a, AGENT, 'query { feedbackQueue(kind: CONSULTATION) { nodes { id kind } } }');
    expect(q.data?.feedbackQueue.nodes).toHaveLength(1);
    // A chat closed without a word from the person leaves no consultation.
    const empty = await call<{ openChat: Chat }>(a, CITIZEN, OPEN, { i: FOOD.id });
    const gone = await call<{ closeChat: { status: string; consultation: unknown } }>(a, AGENT, 'mutation ($id: ID!) { closeChat(id: $id) { status consultation { id } } }', { id: empty.data!.openChat.id });
    expect(gone.data?.closeChat).toEqual({ status: 'CLOSED', consultation: null });
  });
});
