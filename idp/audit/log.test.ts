/**
 * The audit log on its own: keyed hash chaining, canonical hashing, concurrent appends (one chain,
 * no fork, no gap), queries, the anchored head, and the kinds of tampering verification detects:
 * a re-hashed rewrite (without the key), truncation (refused), entries cut off the end.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { migrate } from '../../kernel/migrate.ts';
import { testCache, testDb, type TestDb } from '../../test/support/infra.ts';
import type { Cache } from '../../kernel/cache.ts';
import { createHash } from 'node:crypto';
import { IDP_MIGRATIONS, IDP_SCHEMA } from '../migrations.ts';
import { GENESIS_HASH, auditKey, canonical, createAuditLog, entryHash, type AuditEntry, type AuditLog } from './log.ts';

let db: TestDb;
let log: AuditLog;
let cache: Cache;
const key = auditKey('test-internal-secret');
const at = new Date('2026-03-01T08:00:00.123Z');

beforeAll(async () => {
  db = await testDb();
  await migrate(db, IDP_SCHEMA, IDP_MIGRATIONS);
  cache = await testCache();
  log = createAuditLog(db, { key, cache });
});
afterAll(async () => { await db?.destroy(); await cache?.close(); });

describe('audit.chain', () => {
  test('canonical JSON does not depend on key order', () => {
    expect(canonical({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(canonical({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
  });

  test('entries link to their predecessor, starting from the genesis hash', async () => {
    const first = await db.tx((q) => log.append(q, { actorId: 'a1', action: 'test.one', target: 't1', details: { z: 1, a: '二' } }, at));
    const second = await db.tx((q) => log.append(q, { actorId: 'a2', action: 'test.two' }, at));
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH });
    expect(first.hash).toBe(entryHash(key, GENESIS_HASH, first));
    // Keyed: the plain SHA-256 of the same text is not the link, and another key gives another chain.
    expect(first.hash).not.toBe(entryHash(auditKey('other-secret'), GENESIS_HASH, first));
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash, target: null });
    expect(await log.verify()).toEqual({ ok: true, count: 2, head: { seq: 2, hash: second.hash } });
    expect(await log.anchored()).toEqual({ seq: 2, hash: second.hash });
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
    let e5: AuditEntry | undefined;
    await db.query('alter table idp.audit_log disable trigger audit_log_no_update');
    try {
      // Rewriting one entry's content together with its own hash still breaks the next link.
      const e3 = (await log.query({ afterSeq: 2, limit: 1 }))[0]!;
      const forged = { ...e3, details: { forged: true } };
      await db.query('update idp.audit_log set details = $2, hash = $3 where seq = $1', [3, canonical(forged.details), entryHash(key, e3.prevHash, forged)]);
      expect(await log.verify()).toMatchObject({ ok: false, brokenAt: 4, reason: 'previous hash does not match' });
      e5 = (await log.query({ afterSeq: 4, limit: 1 }))[0];
      await db.query('delete from idp.audit_log where seq = 5');
      await db.query('update idp.audit_log set details = $2, hash = $3 where seq = $1', [3, canonical(e3.details), e3.hash]);
      expect(await log.verify()).toMatchObject({ ok: false, brokenAt: 5, reason: 'entry missing' });
    } finally {
      // Put entry 5 back so the later tests start from an intact log.
      if (e5) {
        await db.query(`insert into idp.audit_log (seq, at, actor_id, action, target, details, prev_hash, hash) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [e5.seq, e5.at, e5.actorId, e5.action, e5.target, canonical(e5.details), e5.prevHash, e5.hash]);
      }
      await db.query('alter table idp.audit_log enable trigger audit_log_no_update');
    }
  });

  test('a rewrite re-hashed without the key (plain SHA-256 down the chain) is detected', async () => {
    const all = await log.query({ limit: 1000 });
    await db.query('alter table idp.audit_log disable trigger audit_log_no_update');
    try {
      let prev = GENESIS_HASH;
      for (const e of all) {
        const details = e.seq === 2 ? { forged: true } : e.details;
        const text = canonical({ seq: e.seq, at: e.at, actorId: e.actorId, action: e.action, target: e.target, details });
        const hash = createHash('sha256').update(prev).update('\n').update(text).digest('hex');
        await db.query('update idp.audit_log set details = $2, prev_hash = $3, hash = $4 where seq = $1', [e.seq, canonical(details), prev, hash]);
        prev = hash;
      }
      expect(await log.verify()).toMatchObject({ ok: false, brokenAt: 1, reason: 'content does not match its hash' });
      // Marked as pre-key entries, the rewrite still differs from the anchored head.
      await db.query(`update idp.audit_log set alg = 'sha256'`);
      expect(await log.verify()).toMatchObject({ ok: false, reason: 'entry differs from the anchored head' });
    } finally {
      for (const e of all) {
        await db.query(`update idp.audit_log set details = $2, prev_hash = $3, hash = $4, alg = 'hmac-sha256' where seq = $1`, [e.seq, canonical(e.details), e.prevHash, e.hash]);
      }
      await db.query('alter table idp.audit_log enable trigger audit_log_no_update');
    }
    expect(await log.verify()).toMatchObject({ ok: true, count: all.length });
  });

  test('TRUNCATE is refused and nothing is lost', async () => {
    const before = (await log.query({ limit: 1000 })).length;
    await expect(db.query('truncate idp.audit_log')).rejects.toThrow(/append-only/);
    expect(await log.query({ limit: 1000 })).toHaveLength(before);
  });

  test('entries cut off the end (or the whole log emptied) are detected against the anchored head', async () => {
    const last = await db.tx((q) => log.append(q, { actorId: 'a9', action: 'test.last' }, at));
    expect(await log.verify()).toMatchObject({ ok: true, head: { seq: last.seq, hash: last.hash } });
    await db.query('alter table idp.audit_log disable trigger audit_log_no_update');
    try {
      await db.query('delete from idp.audit_log where seq >= $1', [last.seq - 1]);
      expect(await log.verify()).toMatchObject({ ok: false, count: last.seq - 2, reason: expect.stringContaining('anchored head not found') });
      await db.query('delete from idp.audit_log');
      expect(await log.verify()).toMatchObject({ ok: false, count: 0 });
    } finally {
      await db.query('alter table idp.audit_log enable trigger audit_log_no_update');
    }
  });
});
