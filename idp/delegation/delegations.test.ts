/**
 * Delegation rules (R-ID-8) against the database: grant by the legal representative, passing on
 * down to level 3 and the refused 4th level, never wider or longer than held, request and
 * decision, change, cascading revocation, expiry, what each person sees, and acting-for.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ManualClock } from '../../kernel/clock.ts';
import { creditCode, insertCompany } from '../../test/support/idp/companies.ts';
import { migrate } from '../../kernel/migrate.ts';
import { testCache, testDb, type TestDb } from '../../test/support/infra.ts';
import type { Cache } from '../../kernel/cache.ts';
import { IDP_MIGRATIONS, IDP_SCHEMA } from '../migrations.ts';
import { createDelegationStore, type DelegationStore } from './delegations.ts';
import { delegationMarkerKey, readDelegationMarker } from '../../kernel/delegation-markers.ts';

const COMPANY = creditCode('91330106MA2B00000');
const UNREGISTERED = creditCode('91330106MA2B00001');
let db: TestDb;
let store: DelegationStore;
let cache: Cache;
const clock = new ManualClock('2026-03-01T00:00:00Z');
const ids = { rep: randomUUID(), p1: randomUUID(), p2: randomUUID(), p3: randomUUID(), p4: randomUUID(), staff: randomUUID() };
const UNTIL = '2026-12-31T00:00:00Z';
const ITEM_A = 'b0f7c1f2-0001-4000-8000-000000000001';
const ITEM_B = 'b0f7c1f2-0002-4000-8000-000000000002';

beforeAll(async () => {
  db = await testDb();
  await migrate(db, IDP_SCHEMA, IDP_MIGRATIONS);
  let n = 0;
  for (const [k, id] of Object.entries(ids)) {
    n += 1;
    await db.query(
      k === 'staff'
        ? `insert into idp.accounts (id, kind, name, username, agency_code) values ($1, 'staff', $2, 'd-staff', '11330100MB0000002W')`
        : `insert into idp.accounts (id, kind, name, id_number) values ($1, 'person', $2, $3)`,
      k === 'staff' ? [id, k] : [id, k, `33010619900101${String(n).padStart(3, '0')}X`],
    );
  }
  await insertCompany(db, COMPANY, ids.rep);
  cache = await testCache();
  store = createDelegationStore({ db, clock, cache, markerTtlSeconds: 660 });
});
afterAll(async () => {
  await cache?.close();
  await db?.destroy();
});

describe('delegation.grant', () => {
  test('three levels pass on; the 4th is DELEGATION_DEPTH_EXCEEDED and nothing is stored', async () => {
    const l1 = await store.grant(ids.rep, { company: COMPANY, granteeId: ids.p1, scope: [ITEM_A, ITEM_B], validUntil: UNTIL });
    expect(l1).toMatchObject({ level: 1, parentId: null, status: 'active', granteeName: 'p1' });
    const l2 = await store.grant(ids.p1, { company: COMPANY, granteeId: ids.p2, scope: [ITEM_A], validUntil: UNTIL });
    expect(l2).toMatchObject({ level: 2, parentId: l1.id });
    const l3 = await store.grant(ids.p2, { company: COMPANY, granteeId: ids.p3, scope: [ITEM_A], validUntil: '2026-06-01T00:00:00Z' });
    expect(l3).toMatchObject({ level: 3, parentId: l2.id });
    const before = (await db.query('select count(*)::int as n from idp.delegations')).rows[0];
    await expect(store.grant(ids.p3, { company: COMPANY, granteeId: ids.p4, scope: [ITEM_A], validUntil: '2026-05-01T00:00:00Z' }))
      .rejects.toMatchObject({ code: 'DELEGATION_DEPTH_EXCEEDED' });
    expect((await db.query('select count(*)::int as n from idp.delegations')).rows[0]).toEqual(before);
  });

  test('never wider or longer than held; not by strangers; not to oneself; not to staff', async () => {
    await expect(store.grant(ids.p1, { company: COMPANY, granteeId: ids.p4, scope: ['*'], validUntil: UNTIL })).rejects.toMatchObject({ code: 'DELEGATION_INVALID' });
    await expect(store.grant(ids.p1, { company: COMPANY, granteeId: ids.p4, scope: [ITEM_A], validUntil: '2027-06-01T00:00:00Z' })).rejects.toMatchObject({ code: 'DELEGATION_INVALID' });
    await expect(store.grant(ids.p4, { company: COMPANY, granteeId: ids.p1, scope: [ITEM_A], validUntil: UNTIL })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(store.grant(ids.rep, { company: COMPANY, granteeId: ids.rep, scope: [ITEM_A], validUntil: UNTIL })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(store.grant(ids.rep, { company: COMPANY, granteeId: ids.staff, scope: [ITEM_A], validUntil: UNTIL })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.grant(ids.rep, { company: UNREGISTERED, granteeId: ids.p4, scope: [ITEM_A], validUntil: UNTIL })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.grant(ids.rep, { company: `${COMPANY.slice(0, 17)}${COMPANY[17] === '0' ? '1' : '0'}`, granteeId: ids.p4, scope: [ITEM_A], validUntil: UNTIL })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(store.grant(ids.rep, { company: COMPANY, granteeId: ids.p4, scope: [], validUntil: UNTIL })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(store.grant(ids.rep, { company: COMPANY, granteeId: ids.p4, scope: [ITEM_A], validUntil: '2026-01-01T00:00:00Z' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('delegation.lifecycle', () => {
  test('request → approve by the legal representative; others cannot decide', async () => {
    const req = await store.request(ids.p4, { company: COMPANY, scope: [ITEM_B], validUntil: UNTIL });
    expect(req).toMatchObject({ status: 'requested', grantorId: ids.rep, level: 1 });
    await expect(store.actingFor(ids.p4, req.id)).rejects.toMatchObject({ code: 'DELEGATION_INVALID' });
    await expect(store.decide(ids.p4, req.id, true)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(store.decide(ids.p1, req.id, true)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await store.decide(ids.rep, req.id, true)).toMatchObject({ status: 'active' });
    expect(await store.actingFor(ids.p4, req.id)).toEqual({
      company: COMPANY, scope: [ITEM_B], delegationId: req.id, validUntil: '2026-12-31T00:00:00.000Z', changedAt: clock.now().getTime(),
    });
    await expect(store.decide(ids.rep, req.id, false)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  test('change: by the grantor only, within what they hold, not below what was passed on', async () => {
    const mine = (await store.visibleTo(ids.p1)).find((d) => d.granteeId === ids.p1)!;
    await expect(store.change(ids.p1, mine.id, { validUntil: '2026-11-30T00:00:00Z' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(store.change(ids.rep, mine.id, { scope: [ITEM_B] })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(store.change(ids.rep, mine.id, { validUntil: '2026-11-30T00:00:00Z' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await store.change(ids.rep, mine.id, { scope: ['*'] })).toMatchObject({ scope: ['*'], validUntil: '2026-12-31T00:00:00.000Z' });
    // The level-2 holder may narrow what they passed on (level 3 ends 2026-06-01).
    const l2 = (await store.visibleTo(ids.p2)).find((d) => d.granteeId === ids.p2)!;
    expect(await store.change(ids.p1, l2.id, { validUntil: '2026-07-01T00:00:00Z' })).toMatchObject({ validUntil: '2026-07-01T00:00:00.000Z' });
    await expect(store.change(ids.p1, l2.id, { validUntil: '2027-07-01T00:00:00Z' })).rejects.toMatchObject({ code: 'DELEGATION_INVALID' });
  });

  test('revoking cascades to everything passed on; acting for it is then refused', async () => {
    const l1 = (await store.visibleTo(ids.p1)).find((d) => d.granteeId === ids.p1)!;
    const l3 = (await store.visibleTo(ids.p3)).find((d) => d.granteeId === ids.p3)!;
    expect(await store.actingFor(ids.p3, l3.id)).toMatchObject({ company: COMPANY, scope: [ITEM_A] });
    await expect(store.actingFor(ids.p2, l3.id)).rejects.toMatchObject({ code: 'DELEGATION_INVALID' });
    await expect(store.revoke(ids.p4, l1.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const revoked = await store.revoke(ids.rep, l1.id);
    expect(revoked).toHaveLength(3);
    // Each of them has its marker for the gateway (kernel/delegation-markers.ts), with the tokens' lifetime.
    for (const id of revoked) {
      expect(await readDelegationMarker(cache, id)).toEqual({ revoked: true });
      expect(await cache.ttl(delegationMarkerKey(id))).toBeGreaterThan(600);
    }
    await expect(store.actingFor(ids.p3, l3.id)).rejects.toMatchObject({ code: 'DELEGATION_INVALID' });
    await expect(store.revoke(ids.rep, l1.id)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await store.memberships(ids.p3))).toEqual([]);
  });

  test('an expired delegation is not in force; memberships follow', async () => {
    const d = await store.grant(ids.rep, { company: COMPANY, granteeId: ids.p2, scope: ['*'], validUntil: '2026-04-01T00:00:00Z' });
    expect(await store.memberships(ids.p2)).toEqual([{ creditCode: COMPANY, name: '杭州示例科技有限公司', relation: 'delegate' }]);
    expect(await store.memberships(ids.rep)).toEqual([{ creditCode: COMPANY, name: '杭州示例科技有限公司', relation: 'legal-representative' }]);
    clock.set('2026-04-01T00:00:00Z');
    await expect(store.actingFor(ids.p2, d.id)).rejects.toMatchObject({ code: 'DELEGATION_INVALID' });
    expect(await store.memberships(ids.p2)).toEqual([]);
    clock.set('2026-03-01T00:00:00Z');
  });

  test('each person sees what they hold or granted; the legal representative sees all of the company', async () => {
    const all = await store.visibleTo(ids.rep);
    const mine = await store.visibleTo(ids.p3);
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(mine.every((d) => d.granteeId === ids.p3 || d.grantorId === ids.p3)).toBe(true);
    expect(await store.visibleTo(ids.staff)).toEqual([]);
  });

  test('concurrent revocations of one delegation: one wins, the other is CONFLICT', async () => {
    const d = await store.grant(ids.rep, { company: COMPANY, granteeId: ids.p1, scope: [ITEM_A], validUntil: UNTIL });
    const results = await Promise.allSettled([store.revoke(ids.rep, d.id), store.revoke(ids.p1, d.id)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'CONFLICT' } });
  });
});

describe('delegation.markers', () => {
  test('acting-for says when the delegation ends and when it last changed; a change and a cascading revoke leave markers', async () => {
    const l1 = await store.grant(ids.rep, { company: COMPANY, granteeId: ids.p1, scope: [ITEM_A], validUntil: '2026-09-01T00:00:00Z' });
    const l2 = await store.grant(ids.p1, { company: COMPANY, granteeId: ids.p2, scope: [ITEM_A], validUntil: '2026-08-01T00:00:00Z' });
    expect(await store.actingFor(ids.p2, l2.id)).toMatchObject({ validUntil: '2026-08-01T00:00:00.000Z', changedAt: Date.parse(l2.updatedAt) });
    clock.advance(60_000);
    // A change: a marker with its instant; the delegation's own changedAt moves with it.
    await store.change(ids.rep, l1.id, { scope: [ITEM_A, ITEM_B] });
    expect(await readDelegationMarker(cache, l1.id)).toEqual({ changedAt: clock.now().getTime() });
    expect((await store.actingFor(ids.p1, l1.id)).changedAt).toBe(clock.now().getTime());
    expect(await readDelegationMarker(cache, l2.id)).toBeUndefined();
    await store.revoke(ids.rep, l1.id);
    expect(await readDelegationMarker(cache, l2.id)).toEqual({ revoked: true });
    clock.set('2026-03-01T00:00:00Z');
  });

  test('without the shared cache nothing is revoked or changed: SERVICE_UNAVAILABLE, the delegation stays in force', async () => {
    const dl = await store.grant(ids.rep, { company: COMPANY, granteeId: ids.p4, scope: [ITEM_A], validUntil: UNTIL });
    const down = await testCache();
    await down.close();
    const cut = createDelegationStore({ db, clock, cache: down, markerTtlSeconds: 660 });
    await expect(cut.revoke(ids.rep, dl.id)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    await expect(cut.change(ids.rep, dl.id, { scope: [ITEM_B] })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(await store.get(dl.id)).toMatchObject({ status: 'active', scope: [ITEM_A] });
    expect(await store.actingFor(ids.p4, dl.id)).toMatchObject({ delegationId: dl.id });
    expect(await store.revoke(ids.rep, dl.id)).toEqual([dl.id]);
  });
});
