import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../kernel/config.ts';
import { internalKey, type Caller } from '../../kernel/internal-auth.ts';
import { silentLogger } from '../../kernel/log.ts';
import { systemClock } from '../../kernel/clock.ts';
import { DEMO_AGENCIES, DEMO_ITEMS } from '../../kernel/demo.ts';
import type { Deps } from '../../kernel/service.ts';
import { testCache, testDb, TEST_SECRET, type TestDb } from '../../test/support/infra.ts';
import { ANONYMOUS, PERSON, callSubgraph } from '../../test/support/subgraph.ts';
import { createItemService, type ItemService } from './service.ts';
import { upsertDirectoryEntry } from './catalogue.ts';

const key = internalKey(TEST_SECRET);
let db: TestDb;
let cache: Awaited<ReturnType<typeof testCache>>;
let svc: ItemService;

const hz = DEMO_AGENCIES[1].code;
const staff = (sub: string, roles: Array<'receiver' | 'acceptor' | 'reviewer' | 'decider'>, agency: string = hz): Caller =>
  ({ kind: 'staff', sub, name: `工作人员${sub}`, agency, roles });
const CLERK = staff('s-clerk', ['receiver']);
const REVIEWER = staff('s-rev', ['reviewer']);
const DECIDER = staff('s-dec', ['decider']);
const OTHER_AGENCY_REVIEWER = staff('s-other', ['reviewer'], DEMO_AGENCIES[2].code);

const food = DEMO_ITEMS[0]!;
/** The food item as a change input (GraphQL shape). */
const change = (over: Record<string, unknown> = {}) => ({
  id: food.id, name: food.name, basicCode: food.basicCode, implementationCode: food.implementationCode, typeCode: food.typeCode,
  level: food.level, caseType: food.caseType, legalTimeLimit: food.legalTimeLimit, promisedTimeLimit: food.promisedTimeLimit,
  onlineDepth: food.onlineDepth, visits: food.visits, agencyCode: food.agencyCode, licenceType: food.licenceType,
  materials: food.materials.map((m) => ({ ...m })), ...over,
});

const REQUEST = `mutation ($i: ItemChangeInput!, $k: String!) { requestItemChange(input: $i, requestKey: $k) {
  itemId version baseVersion status source name requestedByName changedFields } }`;
const APPROVE = 'mutation ($id: ID!, $v: Int!) { approveItemChange(itemId: $id, version: $v) { id name version promisedTimeLimit elements { crossRegion fee { charged standard } } } }';
const REJECT = 'mutation ($id: ID!, $v: Int!, $r: String!) { rejectItemChange(itemId: $id, version: $v, reason: $r) { version status reason decidedByName } }';
type V = { itemId: string; version: number; baseVersion: number; status: string; source: string; name: string; requestedByName: string; changedFields: string[] };
const request = (who: Caller, input: Record<string, unknown>, k: string) => callSubgraph<{ requestItemChange: V }>(svc.url, key, who, REQUEST, { i: input, k });
const approve = (who: Caller, v: number, id = food.id) => callSubgraph<{ approveItemChange: Record<string, unknown> }>(svc.url, key, who, APPROVE, { id, v });
const code = (r: { errors?: Array<{ extensions?: { code?: string } }> }) => r.errors?.[0]?.extensions?.code;
const outbox = async () => (await db.query<{ n: number }>(`select count(*)::int as n from item.outbox where payload->>'id' = $1`, [food.id])).rows[0]!.n;

beforeAll(async () => {
  db = await testDb();
  cache = await testCache();
  const deps: Deps = {
    config: loadConfig({}), secrets: { internalSecret: TEST_SECRET, keyPassphrase: TEST_SECRET, cookieKeys: [TEST_SECRET] },
    internalKey: key, db, cache, clock: systemClock, log: silentLogger(),
  };
  svc = await createItemService(deps, { port: 0, seed: true });
});

afterAll(async () => {
  await svc?.close();
  await cache?.close();
  await db?.destroy();
});

describe('guide elements (R-IT-2, R-IT-4)', () => {
  test('the demo food item has its conditions, process, places, phones, scope, flags, result; materials their attributes', async () => {
    const r = await callSubgraph<{ item: { elements: Record<string, unknown>; materials: Array<Record<string, unknown>> } }>(svc.url, key, ANONYMOUS,
      `query ($id: ID!) { item(id: $id) { elements { legalBasis timeLimitUnit acceptanceConditions process { name } channels places { address hours }
        consultationPhone supervisionPhone crossRegion appointment onlinePayment delivery selfServiceTerminal coHandlingAgencies result { name type } }
        materials { code type sourceChannel formUrl electronicRequired } } }`, { id: DEMO_ITEMS[0]!.id });
    expect(r.errors).toBeUndefined();
    expect(r.data?.item.elements).toMatchObject({ timeLimitUnit: 'WORKING_DAY', channels: ['1', '2', '3'], consultationPhone: '0571-12345', result: { name: '食品经营许可证', type: 'CERTIFICATE' } });
    expect((r.data?.item.elements.process as unknown[]).length).toBe(5);
    expect(r.data?.item.materials[0]).toEqual({ code: 'M01', type: 'ORIGINAL', sourceChannel: 'APPLICANT', formUrl: '', electronicRequired: false });
  });
});

describe('online depth (R-IT-9)', () => {
  test('R-IT-9: five stars needs no visit, four stars at most one (originals checked at pickup); a change breaking that is BAD_INPUT and stores nothing', async () => {
    const before = await outbox();
    for (const [onlineDepth, visits] of [[5, 1], [4, 2]] as const) {
      const r = await request(CLERK, change({ onlineDepth, visits }), `depth-${onlineDepth}-${visits}`);
      expect(code(r)).toBe('BAD_INPUT');
      expect(JSON.stringify(r.errors)).toContain('onlineDepth');
    }
    expect((await db.query<{ n: number }>(`select count(*)::int as n from item.item_versions where item_id = $1 and status = 'pending'`, [food.id])).rows[0]!.n).toBe(0);
    expect(await outbox()).toBe(before);
  });
});

describe('change requests and approval (R-IT-6)', () => {
  test('a request is pending and changes nothing; a second person approves it and it is in force at once, event included', async () => {
    const events = await outbox();
    const r = await request(CLERK, change({ promisedTimeLimit: 3, elements: { crossRegion: 'INTER_PROVINCE', fee: { charged: false } } }), 'req-0001-a');
    expect(r.errors).toBeUndefined();
    expect(r.data?.requestItemChange).toMatchObject({ itemId: food.id, version: 1, baseVersion: 0, status: 'PENDING', source: 'REQUEST', requestedByName: '工作人员s-clerk' });
    expect(r.data?.requestItemChange.changedFields).toEqual(expect.arrayContaining(['promisedTimeLimit', 'elements']));
    const before = await callSubgraph<{ item: { promisedTimeLimit: number; version: number } }>(svc.url, key, ANONYMOUS,
      'query ($id: ID!) { item(id: $id) { promisedTimeLimit version } }', { id: food.id });
    expect(before.data?.item).toEqual({ promisedTimeLimit: 5, version: 0 });
    expect(await outbox()).toBe(events);

    expect(code(await approve(CLERK, 1))).toBe('FORBIDDEN'); // a receiver may not approve
    expect(code(await approve(OTHER_AGENCY_REVIEWER, 1))).toBe('FORBIDDEN');
    expect(code(await approve(ANONYMOUS, 1))).toBe('FORBIDDEN');
    const a = await approve(REVIEWER, 1);
    expect(a.errors).toBeUndefined();
    expect(a.data?.approveItemChange).toEqual({ id: food.id, name: food.name, version: 1, promisedTimeLimit: 3, elements: { crossRegion: 'INTER_PROVINCE', fee: { charged: false, standard: '' } } });
    expect(await outbox()).toBe(events + 1);
    const payload = (await db.query<{ payload: { promisedTimeLimit: number } }>(
      `select payload from item.outbox where payload->>'id' = $1 order by created_at desc limit 1`, [food.id])).rows[0]!.payload;
    expect(payload.promisedTimeLimit).toBe(3);
  });

  test('the requester cannot approve their own change, even with the role', async () => {
    const r = await request(REVIEWER, change({ promisedTimeLimit: 4 }), 'req-0002-a');
    expect(r.errors).toBeUndefined();
    const own = await approve(REVIEWER, r.data!.requestItemChange.version);
    expect(code(own)).toBe('CHANGE_SELF_APPROVAL');
    const ok = await approve(DECIDER, r.data!.requestItemChange.version);
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.approveItemChange.promisedTimeLimit).toBe(4);
  });

  test('the same request sent twice is one version; the same key with other data is CONFLICT', async () => {
    const input = change({ promisedTimeLimit: 2 });
    const [a, b] = await Promise.all([request(CLERK, input, 'req-0003-a'), request(CLERK, input, 'req-0003-a')]);
    expect(a.errors).toBeUndefined();
    expect(b.errors).toBeUndefined();
    expect(a.data?.requestItemChange.version).toBe(b.data?.requestItemChange.version);
    const n = (await db.query<{ n: number }>(`select count(*)::int as n from item.item_versions where request_key = 'req-0003-a'`)).rows[0]!.n;
    expect(n).toBe(1);
    expect(code(await request(CLERK, change({ promisedTimeLimit: 1 }), 'req-0003-a'))).toBe('CONFLICT');
    // Clean up: reject it.
    const rej = await callSubgraph<{ rejectItemChange: { status: string; reason: string } }>(svc.url, key, REVIEWER, REJECT, { id: food.id, v: a.data!.requestItemChange.version, r: '测试完毕' });
    expect(rej.data?.rejectItemChange).toMatchObject({ status: 'REJECTED', reason: '测试完毕' });
  });

  test('concurrent approvals of one version approve it once; the other is CONFLICT', async () => {
    const r = await request(CLERK, change({ promisedTimeLimit: 6 }), 'req-0004-a');
    const v = r.data!.requestItemChange.version;
    const events = await outbox();
    const results = await Promise.all([approve(REVIEWER, v), approve(DECIDER, v)]);
    expect(results.map(code).sort()).toEqual(['CONFLICT', undefined].sort());
    expect(await outbox()).toBe(events + 1);
    const versions = await db.query<{ status: string }>('select status from item.item_versions where item_id = $1 and version = $2', [food.id, v]);
    expect(versions.rows[0]?.status).toBe('approved');
  });

  test('a request based on an older version is superseded when another was approved first', async () => {
    const a = await request(CLERK, change({ promisedTimeLimit: 7 }), 'req-0005-a');
    const b = await request(CLERK, change({ promisedTimeLimit: 8 }), 'req-0005-b');
    expect(a.data?.requestItemChange.baseVersion).toBe(b.data?.requestItemChange.baseVersion);
    expect((await approve(REVIEWER, b.data!.requestItemChange.version)).errors).toBeUndefined();
    expect(code(await approve(REVIEWER, a.data!.requestItemChange.version))).toBe('CONFLICT');
    const hist = await callSubgraph<{ item: { versions: Array<{ version: number; status: string; reason: string | null }> } }>(svc.url, key, CLERK,
      'query ($id: ID!) { item(id: $id) { versions { version status reason } } }', { id: food.id });
    expect(hist.data?.item.versions.find((x) => x.version === a.data!.requestItemChange.version)).toMatchObject({ status: 'SUPERSEDED' });
    expect(hist.data?.item.versions.map((x) => x.version)).toEqual([...hist.data!.item.versions.map((x) => x.version)].sort((p, q) => q - p));
    // History is for the agency's staff.
    expect(code(await callSubgraph(svc.url, key, ANONYMOUS, 'query ($id: ID!) { item(id: $id) { versions { version } } }', { id: food.id }))).toBe('FORBIDDEN');
  });

  test('bad input: invalid elements, a rejection without reason, unknown version, another agency\'s item', async () => {
    const bad = await request(CLERK, change({ elements: { fee: { charged: true } } }), 'req-0006-a');
    expect(code(bad)).toBe('BAD_INPUT');
    expect(bad.errors?.[0]?.extensions?.details).toHaveProperty(['elements.fee.standard']);
    expect(code(await request(CLERK, change(), 'short'))).toBe('BAD_INPUT');
    expect(code(await request(OTHER_AGENCY_REVIEWER, change(), 'req-0006-b'))).toBe('FORBIDDEN');
    expect(code(await request(CLERK, change({ agencyCode: DEMO_AGENCIES[2].code }), 'req-0006-c'))).toBe('FORBIDDEN');
    expect(code(await approve(REVIEWER, 999))).toBe('NOT_FOUND');
    const p = await request(CLERK, change({ promisedTimeLimit: 9 }), 'req-0006-d');
    expect(code(await callSubgraph(svc.url, key, REVIEWER, REJECT, { id: food.id, v: p.data!.requestItemChange.version, r: '  ' }))).toBe('BAD_INPUT');
  });

  test('pending requests of the agency are listed for its staff', async () => {
    const r = await callSubgraph<{ itemChangeRequests: V[] }>(svc.url, key, REVIEWER, '{ itemChangeRequests { itemId version status name } }');
    expect(r.errors).toBeUndefined();
    expect(r.data?.itemChangeRequests.length).toBeGreaterThan(0);
    expect(r.data?.itemChangeRequests.every((x) => x.status === 'PENDING')).toBe(true);
    expect(code(await callSubgraph(svc.url, key, ANONYMOUS, '{ itemChangeRequests { version } }'))).toBe('FORBIDDEN');
  });
});

describe('directory (R-IT-1, R-IT-3) and consistency across levels', () => {
  test('main item → handling item, with the implementation and its directory entry', async () => {
    const r = await callSubgraph<{ directory: Array<{ basicCode: string; kind: string; name: string; children: Array<{ name: string; kind: string; implementations: Array<{ id: string }> }> }> }>(
      svc.url, key, ANONYMOUS, '{ directory(level: 1) { basicCode kind name children { name kind implementations { id } } } }');
    expect(r.errors).toBeUndefined();
    const main = r.data!.directory.find((d) => d.name === '食品经营许可')!;
    expect(main.kind).toBe('MAIN');
    expect(main.children).toEqual([{ name: '食品经营许可（新办）', kind: 'HANDLING', implementations: [{ id: food.id }] }]);
    const item = await callSubgraph<{ item: { directoryEntry: { level: number; legalBasis: string; parent: { name: string } } } }>(svc.url, key, ANONYMOUS,
      'query ($id: ID!) { item(id: $id) { directoryEntry { level legalBasis parent { name } } } }', { id: food.id });
    expect(item.data?.item.directoryEntry).toMatchObject({ level: 2, parent: { name: '食品经营许可' } });
    expect(item.data?.item.directoryEntry.legalBasis).toContain('食品安全法');
  });

  test('the same basic code with another name, type or basis at another level is CATALOGUE_INCONSISTENT', async () => {
    const base = { basicCode: '000110011000', regionCode: '330100', level: 3, name: '食品经营许可（新办）', typeCode: '01', kind: 'handling' as const, parentCode: '000110011' };
    const err = (p: Promise<unknown>) => p.then(() => null, (e: { code?: string; details?: Record<string, string> }) => e);
    const legal = (await db.query<{ legal_basis: string }>(`select legal_basis from item.directory_entries where basic_code = '000110011000' limit 1`)).rows[0]!.legal_basis;
    expect(await err(db.tx((q) => upsertDirectoryEntry(q, { ...base, legalBasis: legal, name: '食品经营许可（新申请）' }, new Date())))).toMatchObject({ code: 'CATALOGUE_INCONSISTENT', details: { name: expect.any(String) } });
    expect(await err(db.tx((q) => upsertDirectoryEntry(q, { ...base, legalBasis: legal, typeCode: '07' }, new Date())))).toMatchObject({ code: 'CATALOGUE_INCONSISTENT' });
    expect(await err(db.tx((q) => upsertDirectoryEntry(q, { ...base, legalBasis: '另一依据' }, new Date())))).toMatchObject({ code: 'CATALOGUE_INCONSISTENT', details: { legalBasis: expect.any(String) } });
    expect(await db.tx((q) => upsertDirectoryEntry(q, { ...base, legalBasis: legal }, new Date()))).toBe('inserted');
    expect(await err(db.tx((q) => upsertDirectoryEntry(q, { ...base, regionCode: '330200', legalBasis: legal, parentCode: 'nope' }, new Date())))).toMatchObject({ code: 'BAD_INPUT' });
    // An implementation renamed away from its directory entry is refused too.
    expect(code(await request(CLERK, change({ name: '食品经营许可（新开）' }), 'req-0007-a'))).toBe('CATALOGUE_INCONSISTENT');
  });
});


describe('notifications of followed items (R-IT-7)', () => {
  const NOTES = 'query ($u: Boolean) { myItemNotifications(unreadOnly: $u) { unreadCount notifications { id version text read item { id } } } }';
  type Notes = { myItemNotifications: { unreadCount: number; notifications: Array<{ id: string; version: number; text: string; read: boolean; item: { id: string } }> } };
  const OTHER_PERSON: Caller = { kind: 'person', sub: '7c1d5c4e-0000-4000-8000-0000000000ff', name: '李四', acr: 'urn:yiwang:loa:2' };

  test('R-IT-7: followers read a notification when a new version is in force; not for a pending or rejected one; marked read', async () => {
    expect((await callSubgraph(svc.url, key, PERSON, 'mutation ($id: ID!) { subscribeItem(itemId: $id) { changed } }', { id: food.id })).errors).toBeUndefined();
    const pending = await request(CLERK, change({ promisedTimeLimit: 9 }), 'req-0008-a');
    const v = pending.data!.requestItemChange.version;
    const rejected = await request(CLERK, change({ promisedTimeLimit: 10 }), 'req-0008-b');
    expect((await callSubgraph(svc.url, key, REVIEWER, REJECT, { id: food.id, v: rejected.data!.requestItemChange.version, r: '不需要' })).errors).toBeUndefined();
    let notes = await callSubgraph<Notes>(svc.url, key, PERSON, NOTES, {});
    expect(notes.data?.myItemNotifications).toEqual({ unreadCount: 0, notifications: [] });

    expect((await approve(DECIDER, v)).errors).toBeUndefined();
    notes = await callSubgraph<Notes>(svc.url, key, PERSON, NOTES, {});
    expect(notes.errors).toBeUndefined();
    expect(notes.data?.myItemNotifications.unreadCount).toBe(1);
    const [n] = notes.data!.myItemNotifications.notifications;
    expect(n).toMatchObject({ version: v, read: false, item: { id: food.id } });
    expect(n!.text).toContain(`您关注的事项「${food.name}」已更新`);
    expect(n!.text).toContain(`version ${v} is in force`);
    // Someone not following sees nothing; anonymous callers must log in.
    expect((await callSubgraph<Notes>(svc.url, key, OTHER_PERSON, NOTES, {})).data?.myItemNotifications.notifications).toEqual([]);
    expect(code(await callSubgraph(svc.url, key, ANONYMOUS, NOTES, {}))).toBe('UNAUTHENTICATED');

    // Another person cannot mark it read; the follower can; bad ids are BAD_INPUT.
    const MARK = 'mutation ($ids: [ID!]) { markItemNotificationsRead(ids: $ids) }';
    expect((await callSubgraph<{ markItemNotificationsRead: number }>(svc.url, key, OTHER_PERSON, MARK, { ids: [n!.id] })).data?.markItemNotificationsRead).toBe(0);
    expect(code(await callSubgraph(svc.url, key, PERSON, MARK, { ids: ['nope'] }))).toBe('BAD_INPUT');
    expect((await callSubgraph<{ markItemNotificationsRead: number }>(svc.url, key, PERSON, MARK, { ids: [n!.id] })).data?.markItemNotificationsRead).toBe(1);
    notes = await callSubgraph<Notes>(svc.url, key, PERSON, NOTES, { u: true });
    expect(notes.data?.myItemNotifications).toEqual({ unreadCount: 0, notifications: [] });
    expect((await callSubgraph<Notes>(svc.url, key, PERSON, NOTES, {})).data?.myItemNotifications.notifications.map((x) => x.read)).toEqual([true]);
  });
});

describe('directory entries through the graph (R-IT-1)', () => {
  const prov = DEMO_AGENCIES[0].code;
  const PROV_CLERK = staff('p-clerk', ['receiver'], prov);
  const PROV_REVIEWER = staff('p-rev', ['reviewer'], prov);
  const PROV_DECIDER = staff('p-dec', ['decider'], prov);
  const REQ = `mutation ($i: DirectoryEntryInput!, $k: String!) { requestDirectoryChange(input: $i, requestKey: $k) {
    id basicCode level name kind parentCode isNew status requestedByName requestedByAgency } }`;
  const OK = 'mutation ($id: ID!) { approveDirectoryChange(id: $id) { basicCode regionCode level name kind legalBasis } }';
  const LIST = 'query ($s: ItemVersionStatus) { directoryChangeRequests(status: $s) { id name status requestedByName decidedByName decidedByAgency reason } }';
  type C = { id: string; status: string; isNew: boolean; name: string };
  const entry = (over: Record<string, unknown> = {}) => ({
    basicCode: '000110099', regionCode: '330000', level: 2, name: '食品小作坊登记', typeCode: '10', legalBasis: '《浙江省食品小作坊小餐饮店小食杂店和食品摊贩管理规定》',
    kind: 'MAIN', ...over });
  const ask = (who: Caller, i: Record<string, unknown>, k: string) => callSubgraph<{ requestDirectoryChange: C }>(svc.url, key, who, REQ, { i, k });
  const changes = async () => (await db.query<{ n: number }>('select count(*)::int as n from item.directory_changes')).rows[0]!.n;
  const level2 = async () => (await callSubgraph<{ directory: Array<{ basicCode: string; name: string }> }>(svc.url, key, ANONYMOUS,
    '{ directory(level: 2) { basicCode name } }')).data!.directory.filter((d) => d.basicCode === '000110099');

  test('R-IT-1: staff of the province request a new provincial entry; another person approves it; the trail keeps both', async () => {
    const r = await ask(PROV_CLERK, entry(), 'dir-0001-a');
    expect(r.errors).toBeUndefined();
    expect(r.data?.requestDirectoryChange).toMatchObject({ basicCode: '000110099', level: 2, kind: 'MAIN', isNew: true, status: 'PENDING', requestedByName: '工作人员p-clerk', requestedByAgency: prov });
    const id = r.data!.requestDirectoryChange.id;
    // The same request again is the same change.
    expect((await ask(PROV_CLERK, entry(), 'dir-0001-a')).data?.requestDirectoryChange.id).toBe(id);
    expect(await level2()).toEqual([]);
    expect(code(await callSubgraph(svc.url, key, PROV_CLERK, OK, { id }))).toBe('FORBIDDEN'); // a receiver
    expect(code(await callSubgraph(svc.url, key, REVIEWER, OK, { id }))).toBe('FORBIDDEN'); // the city keeps another directory
    expect(code(await callSubgraph(svc.url, key, ANONYMOUS, OK, { id }))).toBe('FORBIDDEN');
    const a = await callSubgraph<{ approveDirectoryChange: Record<string, unknown> }>(svc.url, key, PROV_REVIEWER, OK, { id });
    expect(a.errors).toBeUndefined();
    expect(a.data?.approveDirectoryChange).toMatchObject({ basicCode: '000110099', regionCode: '330000', level: 2, name: '食品小作坊登记', kind: 'MAIN' });
    expect(await level2()).toEqual([{ basicCode: '000110099', name: '食品小作坊登记' }]);
    expect(code(await callSubgraph(svc.url, key, PROV_DECIDER, OK, { id }))).toBe('CONFLICT'); // decided already
    const trail = await callSubgraph<{ directoryChangeRequests: Array<Record<string, unknown>> }>(svc.url, key, PROV_DECIDER, LIST, { s: 'APPROVED' });
    expect(trail.data?.directoryChangeRequests).toEqual([expect.objectContaining({ id, status: 'APPROVED', requestedByName: '工作人员p-clerk', decidedByName: '工作人员p-rev', decidedByAgency: prov })]);
    // The trail cannot be rewritten or deleted.
    await expect(db.query(`update item.directory_changes set reason = 'x' where id = $1`, [id])).rejects.toThrow(/never changes/);
    await expect(db.query('delete from item.directory_changes where id = $1', [id])).rejects.toThrow(/never deleted/);
  });

  test('R-IT-1: a requester cannot approve their own change; bad, inconsistent, out-of-scope or unchanged requests store nothing', async () => {
    const before = await changes();
    expect(code(await ask(PROV_CLERK, entry({ regionCode: '33' }), 'dir-0002-a'))).toBe('BAD_INPUT');
    expect(code(await ask(PROV_CLERK, entry({ kind: 'SUB' }), 'dir-0002-b'))).toBe('BAD_INPUT'); // a sub-item needs a parent
    expect(code(await ask(PROV_CLERK, entry({ parentCode: 'nope', kind: 'HANDLING' }), 'dir-0002-c'))).toBe('BAD_INPUT');
    expect(code(await ask(PROV_CLERK, entry({ basicCode: '000110011000', name: '食品经营许可（新开）', kind: 'HANDLING', parentCode: '000110011' }), 'dir-0002-d'))).toBe('CATALOGUE_INCONSISTENT');
    expect(code(await ask(CLERK, entry(), 'dir-0002-e'))).toBe('FORBIDDEN'); // a city agency, a provincial entry
    expect(code(await ask(ANONYMOUS, entry(), 'dir-0002-f'))).toBe('FORBIDDEN');
    expect(code(await ask(PROV_CLERK, entry(), 'dir-0002-g'))).toBe('BAD_INPUT'); // already so
    expect(code(await ask(PROV_CLERK, entry(), 'short'))).toBe('BAD_INPUT');
    expect(await changes()).toBe(before);
    const own = await ask(PROV_REVIEWER, entry({ name: '食品小作坊许可' }), 'dir-0002-h');
    expect(own.errors).toBeUndefined();
    expect(code(await callSubgraph(svc.url, key, PROV_REVIEWER, OK, { id: own.data!.requestDirectoryChange.id }))).toBe('CHANGE_SELF_APPROVAL');
    const rej = await callSubgraph<{ rejectDirectoryChange: { status: string; reason: string } }>(svc.url, key, PROV_DECIDER,
      'mutation ($id: ID!, $r: String!) { rejectDirectoryChange(id: $id, reason: $r) { status reason } }', { id: own.data!.requestDirectoryChange.id, r: '名称不规范' });
    expect(rej.data?.rejectDirectoryChange).toEqual({ status: 'REJECTED', reason: '名称不规范' });
    expect(code(await callSubgraph(svc.url, key, PROV_DECIDER, OK, { id: '00000000-0000-4000-8000-000000000000' }))).toBe('NOT_FOUND');
  });

  test('R-IT-1: a change requested before another was approved is superseded, never undoing it', async () => {
    const a = await ask(PROV_CLERK, entry({ name: '食品小作坊登记（甲）' }), 'dir-0003-a');
    const b = await ask(PROV_CLERK, entry({ name: '食品小作坊登记（乙）' }), 'dir-0003-b');
    expect(a.data?.requestDirectoryChange.isNew).toBe(false);
    expect((await callSubgraph(svc.url, key, PROV_REVIEWER, OK, { id: b.data!.requestDirectoryChange.id })).errors).toBeUndefined();
    expect(code(await callSubgraph(svc.url, key, PROV_REVIEWER, OK, { id: a.data!.requestDirectoryChange.id }))).toBe('CONFLICT');
    expect(await level2()).toEqual([{ basicCode: '000110099', name: '食品小作坊登记（乙）' }]);
    const superseded = await callSubgraph<{ directoryChangeRequests: Array<{ id: string; reason: string }> }>(svc.url, key, PROV_CLERK, LIST, { s: 'SUPERSEDED' });
    expect(superseded.data?.directoryChangeRequests.map((c) => c.id)).toEqual([a.data!.requestDirectoryChange.id]);
  });
});
