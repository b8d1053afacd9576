/**
 * Federation keys at rest and their rotation; the subordinate registry's input checks and audit.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair } from 'jose';
import { ManualClock } from '../kernel/clock.ts';
import { migrate } from '../kernel/migrate.ts';
import { testDb, type TestDb } from '../test/support/infra.ts';
import { createFederationKeys, createRegistry, FEDERATION_MIGRATIONS, FEDERATION_SCHEMA, signStatement, verifyStatement } from './index.ts';
import { decryptJwk } from './keys.ts';

let db: TestDb;
const clock = new ManualClock('2026-12-01T00:00:00Z');
const PASS = 'a-long-key-passphrase-0123456789abcdef';
const codeOf = async (p: Promise<unknown>) => p.then(() => 'no error', (e: { code?: string }) => e.code ?? String(e));

beforeAll(async () => {
  db = await testDb();
  await migrate(db, FEDERATION_SCHEMA, FEDERATION_MIGRATIONS);
});
afterAll(async () => { await db.destroy(); });

describe('federation keys', () => {
  it('are stored encrypted (JWE, kid bound) and open only with the passphrase', async () => {
    const keys = createFederationKeys({ db, passphrase: PASS, clock, statementTtlSeconds: 3600 });
    const k = await keys.signingKey();
    const { rows } = await db.query<{ private_jwk_enc: string; public_jwk: unknown }>('select private_jwk_enc, public_jwk from federation.keys where kid = $1', [k.kid]);
    const blob = rows[0]!.private_jwk_enc;
    expect(blob.split('.')).toHaveLength(5);
    expect(blob).not.toContain('"d"');
    expect(JSON.stringify(rows[0]!.public_jwk)).not.toContain('"d"');
    expect((await decryptJwk(blob, PASS, k.kid)).d).toBeTruthy();
    expect(await codeOf(decryptJwk(blob, 'another-passphrase-0123456789abcdef', k.kid))).toBe('KEY_DECRYPT_FAILED');
    expect(await codeOf(decryptJwk(blob, PASS, 'some-other-kid'))).toBe('KEY_DECRYPT_FAILED');
    const other = createFederationKeys({ db, passphrase: 'another-passphrase-0123456789abcdef', clock, statementTtlSeconds: 3600 });
    expect(await codeOf(other.signingKey())).toBe('KEY_DECRYPT_FAILED');
    // A second instance (another process) signs with the same key.
    const again = createFederationKeys({ db, passphrase: PASS, clock, statementTtlSeconds: 3600 });
    expect((await again.signingKey()).kid).toBe(k.kid);
  });

  it('processes starting together make one key, not two', async () => {
    const fresh = await testDb();
    try {
      await migrate(fresh, FEDERATION_SCHEMA, FEDERATION_MIGRATIONS);
      const made = await Promise.all([0, 1, 2].map(() => createFederationKeys({ db: fresh, passphrase: PASS, clock, statementTtlSeconds: 3600 }).signingKey()));
      expect(new Set(made.map((k) => k.kid)).size).toBe(1);
      expect((await fresh.query('select kid from federation.keys')).rows).toHaveLength(1);
    } finally {
      await fresh.destroy();
    }
  });

  it('the relying-party keys (R-ID-12, the IdP signing client assertions) are a set of their own, encrypted and rotated alike, audited apart', async () => {
    const fed = createFederationKeys({ db, passphrase: PASS, clock, statementTtlSeconds: 3600 });
    const rp = createFederationKeys({ db, passphrase: PASS, clock, statementTtlSeconds: 3600, purpose: 'relying_party' });
    const fk = await fed.signingKey();
    const rk = await rp.signingKey();
    expect(rk.kid).not.toBe(fk.kid);
    expect((await rp.publicJwks()).keys.map((k) => k.kid)).toEqual([rk.kid]);
    expect((await fed.publicJwks()).keys.map((k) => k.kid)).not.toContain(rk.kid);
    const { rows } = await db.query<{ private_jwk_enc: string }>('select private_jwk_enc from federation.rp_keys where kid = $1', [rk.kid]);
    expect(rows[0]!.private_jwk_enc).not.toContain('"d"');
    expect((await decryptJwk(rows[0]!.private_jwk_enc, PASS, rk.kid)).d).toBeTruthy();
    const next = await rp.prepareNext('admin');
    expect((await rp.publicJwks()).keys.map((k) => k.kid)).toEqual(expect.arrayContaining([rk.kid, next.kid]));
    await rp.activateNext('admin');
    expect((await rp.signingKey()).kid).toBe(next.kid);
    expect((await fed.signingKey()).kid).toBe(fk.kid); // the federation key did not move
    const audit = await db.query<{ action: string }>("select action from federation.audit where action like 'federation.rp_key.%' order by id");
    expect(audit.rows.map((r) => r.action)).toEqual(['federation.rp_key.create', 'federation.rp_key.prepare', 'federation.rp_key.activate']);
  });

  it('rotate in two steps; the retired key stays published until its statements expire', async () => {
    const keys = createFederationKeys({ db, passphrase: PASS, clock, statementTtlSeconds: 3600 });
    const old = await keys.signingKey();
    expect(await codeOf(keys.activateNext('admin'))).toBe('CONFLICT');
    const next = await keys.prepareNext('admin');
    expect((await keys.prepareNext('admin')).kid).toBe(next.kid); // idempotent
    expect((await keys.signingKey()).kid).toBe(old.kid);
    const now = Math.floor(clock.now().getTime() / 1000);
    const signedWithOld = await signStatement({ iss: 'https://a.example', sub: 'https://a.example', iat: now, exp: now + 3600, jwks: await keys.publicJwks() }, old);
    const { active, retired } = await keys.activateNext('admin');
    expect(active.kid).toBe(next.kid);
    expect(retired).toMatchObject({ kid: old.kid, state: 'retired', publishUntil: new Date(clock.now().getTime() + 3600_000).toISOString() });
    expect((await keys.signingKey()).kid).toBe(next.kid);
    // Within the grace period the old statement still verifies against what is published.
    clock.advance(3000_000);
    await expect(verifyStatement(signedWithOld, await keys.publicJwks(), Math.floor(clock.now().getTime() / 1000))).resolves.toBeTruthy();
    clock.advance(700_000);
    expect((await keys.publicJwks()).keys.map((k) => k.kid)).toEqual([next.kid]);
    const { rows } = await db.query<{ action: string }>("select action from federation.audit where action like 'federation.key.%' order by id");
    expect(rows.map((r) => r.action)).toEqual(['federation.key.create', 'federation.key.prepare', 'federation.key.activate']);
  });
});

describe('subordinate registry', () => {
  const policy = { allowedHosts: ['.gov.example.cn'], httpHosts: [] };
  it('refuses bad input with BAD_INPUT or a refused id, and stores nothing', async () => {
    const reg = createRegistry(db, clock, policy);
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] };
    const ok = { entityId: 'https://city.gov.example.cn', jwks, entityTypes: ['openid_provider'] };
    expect(await codeOf(reg.put({ ...ok, entityId: 'https://city.elsewhere.cn' }, 'admin'))).toBe('FEDERATION_ENTITY_ID_REFUSED');
    expect(await codeOf(reg.put({ ...ok, entityId: 'http://city.gov.example.cn' }, 'admin'))).toBe('FEDERATION_ENTITY_ID_REFUSED');
    expect(await codeOf(reg.put({ ...ok, jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'k1' }] } }, 'admin'))).toBe('BAD_INPUT');
    expect(await codeOf(reg.put({ ...ok, jwks: { keys: [] } }, 'admin'))).toBe('BAD_INPUT');
    expect(await codeOf(reg.put({ ...ok, entityTypes: ['Bad Type'] }, 'admin'))).toBe('BAD_INPUT');
    expect(await codeOf(reg.put({ ...ok, constraints: { max_path_length: -1 } }, 'admin'))).toBe('BAD_INPUT');
    expect(await codeOf(reg.put({ ...ok, metadataPolicy: { openid_provider: { x: { one_of: ['a'], add: ['a'] } } } }, 'admin'))).toBe('FEDERATION_POLICY_INVALID');
    expect(await reg.list()).toEqual([]);
    const rec = await reg.put(ok, 'admin');
    expect(rec).toMatchObject({ entityId: ok.entityId, addedBy: 'admin', entityTypes: ['openid_provider'] });
    await reg.put({ ...ok, constraints: { max_path_length: 0 } }, 'admin-2');
    expect((await reg.get(ok.entityId))!.constraints).toEqual({ max_path_length: 0 });
    await reg.remove(ok.entityId, 'admin-3');
    expect(await reg.get(ok.entityId)).toBeNull();
    expect((await reg.audit(3)).map((a) => [a.action, a.actor])).toEqual([
      ['federation.subordinate.remove', 'admin-3'], ['federation.subordinate.update', 'admin-2'], ['federation.subordinate.add', 'admin'],
    ]);
    // The audit trail cannot be rewritten.
    expect(await codeOf(db.query("update federation.audit set actor = 'x'"))).not.toBe('no error');
  });
});
