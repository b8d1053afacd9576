import { describe, expect, test } from '@jest/globals';
import { assertPasswordPolicy, hashPassword, verifyPassword } from './password.ts';

describe('idp.password', () => {
  test('scrypt hash with its parameters and a random salt; verifies the right password only', async () => {
    const a = await hashPassword('Correct#horse1');
    const b = await hashPassword('Correct#horse1');
    expect(a).toMatch(/^scrypt\$15\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('Correct#horse1', a)).toBe(true);
    expect(await verifyPassword('Correct#horse2', a)).toBe(false);
    expect(await verifyPassword('Correct#horse1', 'md5$abc')).toBe(false);
    expect(await verifyPassword('Correct#horse1', a.replace('scrypt$15', 'scrypt$40'))).toBe(false);
  });

  test('policy: at least 8 characters and 3 of lower, upper, digit, symbol', () => {
    for (const ok of ['Abcdefg1', 'abcdef1!', 'ABCDEF1!', 'Abcdefg!', '密码Abc12345']) expect(() => assertPasswordPolicy(ok)).not.toThrow();
    for (const weak of ['Abc1!', 'abcdefgh', 'abcdefg1', 'ABCDEFG!', '12345678', '']) {
      expect(() => assertPasswordPolicy(weak)).toThrow(expect.objectContaining({ code: 'PASSWORD_WEAK' }));
    }
    expect(() => assertPasswordPolicy(`Aa1!${'x'.repeat(200)}`)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});
