/**
 * The oidc-provider adapter over the kernel cache (real Redis when REDIS_URL is set, the
 * in-process substitute otherwise): expiry, consume, the uid / user-code indexes, and
 * revokeByGrantId.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Cache } from '../../kernel/cache.ts';
import { testCache } from '../../test/support/infra.ts';
import { CacheAdapter } from './adapter.ts';

let cache: Cache;
beforeAll(async () => { cache = await testCache(); });
afterAll(async () => { await cache?.close(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('idp.adapter', () => {
  test('upsert and find; an artefact expires with its TTL; the grant index outlives its shortest member', async () => {
    const at = new CacheAdapter(cache, 'AccessToken');
    const rt = new CacheAdapter(cache, 'RefreshToken');
    await rt.upsert('rt1', { jti: 'rt1', grantId: 'gx', kind: 'RefreshToken' }, 60);
    await at.upsert('at1', { jti: 'at1', grantId: 'gx', kind: 'AccessToken' }, 1);
    await at.upsert('at2', { jti: 'at2', kind: 'AccessToken' });
    expect(await at.find('at1')).toEqual({ jti: 'at1', grantId: 'gx', kind: 'AccessToken' });
    expect(await at.find('rt1')).toBeUndefined(); // models are separate namespaces
    await sleep(1300);
    expect(await at.find('at1')).toBeUndefined();
    expect(await rt.find('rt1')).toBeTruthy();
    expect(await at.find('at2')).toBeTruthy(); // no expiry given: kept
    expect(await cache.ttl('oidc:grant:gx')).toBeGreaterThan(50);
  });

  test('consume marks once (the first time stands) and keeps the payload; destroy removes both', async () => {
    const codes = new CacheAdapter(cache, 'AuthorizationCode', () => 1_700_000_000_000);
    await codes.upsert('c1', { jti: 'c1', grantId: 'g1' }, 60);
    expect((await codes.find('c1'))?.consumed).toBeUndefined();
    await codes.consume('c1');
    expect(await codes.find('c1')).toEqual({ jti: 'c1', grantId: 'g1', consumed: 1_700_000_000 });
    const later = new CacheAdapter(cache, 'AuthorizationCode', () => 1_800_000_000_000);
    await later.consume('c1');
    expect((await codes.find('c1'))?.consumed).toBe(1_700_000_000);
    expect(await cache.ttl('oidc:AuthorizationCode:c1:consumed')).toBeGreaterThan(0);
    await codes.destroy('c1');
    expect(await codes.find('c1')).toBeUndefined();
    expect(await cache.get('oidc:AuthorizationCode:c1:consumed')).toBeNull();
    await codes.consume('missing'); // consuming nothing stores nothing
    expect(await cache.get('oidc:AuthorizationCode:missing:consumed')).toBeNull();
  });

  test('findByUid and findByUserCode follow their indexes, which die with the artefact', async () => {
    const sessions = new CacheAdapter(cache, 'Session');
    await sessions.upsert('s1', { jti: 's1', uid: 'u1', accountId: 'a' }, 60);
    expect(await sessions.findByUid('u1')).toMatchObject({ jti: 's1', accountId: 'a' });
    await sessions.destroy('s1');
    expect(await sessions.findByUid('u1')).toBeUndefined();
    expect(await cache.get('oidc:sessionUid:u1')).toBeNull();

    const devices = new CacheAdapter(cache, 'DeviceCode');
    await devices.upsert('d1', { jti: 'd1', userCode: 'ABCD-EFGH', grantId: 'g2' }, 60);
    expect(await devices.findByUserCode('ABCD-EFGH')).toMatchObject({ jti: 'd1' });
    expect(await devices.findByUserCode('NOPE')).toBeUndefined();
  });

  test('revokeByGrantId removes every token of that grant (and its indexes) and nothing else', async () => {
    const at = new CacheAdapter(cache, 'AccessToken');
    const rt = new CacheAdapter(cache, 'RefreshToken');
    const code = new CacheAdapter(cache, 'AuthorizationCode');
    const devices = new CacheAdapter(cache, 'DeviceCode');
    await at.upsert('a1', { jti: 'a1', grantId: 'g3' }, 60);
    await rt.upsert('r1', { jti: 'r1', grantId: 'g3' }, 600);
    await code.upsert('k1', { jti: 'k1', grantId: 'g3' }, 60);
    await code.consume('k1');
    await devices.upsert('d2', { jti: 'd2', grantId: 'g3', userCode: 'WXYZ-1234' }, 60);
    await at.upsert('a2', { jti: 'a2', grantId: 'other' }, 60);

    await at.revokeByGrantId('g3');

    expect(await at.find('a1')).toBeUndefined();
    expect(await rt.find('r1')).toBeUndefined();
    expect(await code.find('k1')).toBeUndefined();
    expect(await cache.get('oidc:AuthorizationCode:k1:consumed')).toBeNull();
    expect(await devices.findByUserCode('WXYZ-1234')).toBeUndefined();
    expect(await cache.sMembers('oidc:grant:g3')).toEqual([]);
    expect(await at.find('a2')).toBeTruthy();
    await at.revokeByGrantId('never-existed');
  });
});
