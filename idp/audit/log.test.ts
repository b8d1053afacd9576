/**
 * The audit log on its own: hash chaining, canonical hashing, concurrent appends (one chain, no
 * fork, no gap), queries, and the kinds of tampering verification detects.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { migrate } from '../../kernel/migrate.ts';
import { testDb, type TestDb } from '../../test/support/infra.ts';
import { IDP_MIGRATIONS, IDP_SCHEMA } from '../migrations.ts';
import { GENESIS_HASH, canonical, createAuditLog, entryHash, type AuditLog } from './log.ts';

let db: TestDb;
let log: AuditLog;
const at = new Date('2026-03-01T08:00:00.123Z');

beforeAll(async () => {
  db = await testDb();
  await migrate(db, IDP_SCHEMA, IDP_MIGRATIONS);
  log = createAuditLog(db);
});
afterAll(async () => { await db?.destroy(); });

describe('audit.chain', () => {
  test('canonical JSON does not depend on key order', () => {
    expect(canonical({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(canonical({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
  });

  test('entries link to their predecessor, starting from the genesis hash', async () => {
    const first = await db.tx((q) => log.append(q, { actorId: 'a1', action: 'test.one', target: 't1', details: { z: 1, a: '二' } }, at));
    const second = await db.tx((q) => log.append(q, { actorId: 'a2', action: 'test.two' }, at));
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH });
    expect(first.hash).toBe(entryHash(GENESIS_HASH, first));
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash, target: null });
    expect(await log.verify()).toEqual({ ok: true, count: 2 });
  });

  test('an act that rolls back leaves no entry', async () => {
    await expect(db.tx(async (q) => {
      await log.append(q, { actorId: 'a1', action: 'test.rolled-back' }, at);
      throw new Error('the act failed');
    })).rejects.toThrow('the act failed');
    expect((await log.query({ action: 'test.rolled-back' }))).toEqual([]);
  });

  test('concurrent appends form one chain without gaps', async () => {
    await Promise.all(Array.from({ length: 12 }, (_, i) => db.tx((q) => log.append(q, { actorId: `c${i}`, action: 'test.concurrent' }, at))));
    const all = await log.query({ limit: 1000 });
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    expect(await log.verify()).toMatchObject({ ok: true, count: all.length });
  });

  test('queries filter by actor, action, target, time and position', async () => {
    expect((await log.query({ actorId: 'a1' })).map((e) => e.action)).toEqual(['test.one']);
    expect((await log.query({ target: 't1' }))).toHaveLength(1);
    expect((await log.query({ action: 'test.concurrent', limit: 5 }))).toHaveLength(5);
    expect((await log.query({ afterSeq: 13 })).map((e) => e.seq)).toEqual([14]);
    expect((await log.query({ from: '2026-03-01T09:00:00Z' }))).toEqual([]);
  });

  test('a removed entry or a rewritten hash is detected', async () => {
    await db.query('alter table idp.audit_log disable trigger audit_log_no_update');
    try {
      // Rewriting one entry's content together with its own hash still breaks the next link.
      const e3 = (await log.query({ afterSeq: 2, limit: 1 }))[0]!;
      const forged = { ...e3, details: { forged: true } };
      await db.query('update idp.audit_log set details = $2, hash = $3 where seq = $1', [3, canonical(forged.details), entryHash(e3.prevHash, forged)]);
      expect(await log.verify()).toMatchObject({ ok: false, brokenAt: 4, reason: 'previous hash does not match' });
      await db.query('delete from idp.audit_log where seq = 5');
      await db.query('update idp.audit_log set details = $2, hash = $3 where seq = $1', [3, canonical(e3.details), e3.hash]);
      expect(await log.verify()).toMatchObject({ ok: false, brokenAt: 5, reason: 'entry missing' });
    } finally {
      await db.query('alter table idp.audit_log enable trigger audit_log_no_update');
    }
  });
});
