import { describe, expect, test } from '@jest/globals';
import { argon2Sync, randomBytes, scryptSync } from 'node:crypto';
import { assertPasswordPolicy, hashPassword, needsRehash, verifyPassword } from './password.ts';

describe('idp.password', () => {
  test('Argon2id at OWASP\'s minimum (19 MiB, 2 passes) as a PHC string with a random salt; verifies the right password only', async () => {
    const a = await hashPassword('Correct#horse1');
    const b = await hashPassword('Correct#horse1');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('Correct#horse1', a)).toBe(true);
    expect(await verifyPassword('Correct#horse2', a)).toBe(false);
    expect(await verifyPassword('Correct#horse1', 'md5$abc')).toBe(false);
    expect(needsRehash(a)).toBe(false);
  });

  test('the primitive is Argon2id as RFC 9106 defines it (§5.3 test vector); the PHC form decodes as the reference implementation writes it', () => {
    const tag = argon2Sync('argon2id', {
      message: Buffer.alloc(32, 1), nonce: Buffer.alloc(16, 2), secret: Buffer.alloc(8, 3), associatedData: Buffer.alloc(12, 4),
      memory: 32, passes: 3, parallelism: 4, tagLength: 32,
    });
    expect(tag.toString('hex')).toBe('0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659');
    // phc-winner-argon2 README: echo -n password | argon2 somesalt -t 2 -m 16 -p 4 -l 24 (Argon2i) → …$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG
    const i = argon2Sync('argon2i', { message: 'password', nonce: Buffer.from('c29tZXNhbHQ', 'base64'), memory: 65536, passes: 2, parallelism: 4, tagLength: 24 });
    expect(i.toString('base64').replace(/=+$/, '')).toBe('RdescudvJCsgt3ub+b+dWRWJTmaaJObG');
  });

  test('hashes written before (scrypt) still verify and ask to be rehashed; weaker Argon2id too; crafted parameters are refused, not computed', async () => {
    const salt = randomBytes(16);
    const legacy = ['scrypt', 15, 8, 1, salt.toString('base64url'),
      scryptSync('Correct#horse1', salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }).toString('base64url')].join('$');
    expect(await verifyPassword('Correct#horse1', legacy)).toBe(true);
    expect(await verifyPassword('Correct#horse2', legacy)).toBe(false);
    expect(needsRehash(legacy)).toBe(true);
    expect(await verifyPassword('Correct#horse1', legacy.replace('scrypt$15', 'scrypt$40'))).toBe(false);
    const weak = await hashPassword('Correct#horse1').then((h) => h.replace('m=19456,t=2', 'm=19456,t=1'));
    expect(needsRehash(weak)).toBe(true);
    const good = await hashPassword('Correct#horse1');
    // A stored hash asking for 4 GiB or 1000 passes is not computed.
    expect(await verifyPassword('Correct#horse1', good.replace('m=19456', 'm=4194304'))).toBe(false);
    expect(await verifyPassword('Correct#horse1', good.replace('t=2', 't=999'))).toBe(false);
  });

  test('policy: at least 8 characters and 3 of lower, upper, digit, symbol', () => {
    for (const ok of ['Abcdefg1', 'abcdef1!', 'ABCDEF1!', 'Abcdefg!', '密码Abc12345']) expect(() => assertPasswordPolicy(ok)).not.toThrow();
    for (const weak of ['Abc1!', 'abcdefgh', 'abcdefg1', 'ABCDEFG!', '12345678', '']) {
      expect(() => assertPasswordPolicy(weak)).toThrow(expect.objectContaining({ code: 'PASSWORD_WEAK' }));
    }
    expect(() => assertPasswordPolicy(`Aa1!${'x'.repeat(200)}`)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});
