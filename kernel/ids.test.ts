import { describe, expect, test } from '@jest/globals';
import {
  creditCodeCheckChar, formatLicenceId, isValidCreditCode, isValidIdNumber, maskIdNumber, mod3736CheckChar, parseLicenceId,
} from './ids.ts';

describe('ids.idNumber (GB 11643)', () => {
  test.each(['11010519491231002X', '440524188001010014'])('accepts the known-good %s', (id) => {
    expect(isValidIdNumber(id)).toBe(true);
  });
  test.each([
    ['wrong check digit', '110105194912310021'],
    ['17 digits', '11010519491231002'],
    ['impossible date', '110105194902300028'],
    ['letters', '11010519491231A02X'],
  ])('refuses %s', (_why, id) => {
    expect(isValidIdNumber(id)).toBe(false);
  });
  test('masks the birth date', () => {
    expect(maskIdNumber('11010519491231002X')).toBe('110105********002X');
  });
});

describe('ids.creditCode (GB 32100)', () => {
  test.each(['91350100M000100Y43', '91110000802100433B'])('accepts %s', (c) => {
    expect(isValidCreditCode(c)).toBe(true);
    expect(creditCodeCheckChar(c.slice(0, 17))).toBe(c[17]);
  });
  test('refuses a wrong check character and forbidden letters', () => {
    expect(isValidCreditCode('91350100M000100Y44')).toBe(false);
    expect(isValidCreditCode('91350100M0001O0Y43')).toBe(false);
  });
});

describe('ids.licenceId (GB/T 36904, MOD 37,36)', () => {
  const published = [
    '1.2.156.3005.2.11100000000013338W087.11370800MB28559184.37080001202411010001.001.3',
    '1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9',
    '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S',
    '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U',
    '1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0',
  ];
  test.each(published)('verifies the published identifier %s', (id) => {
    const parts = parseLicenceId(id);
    expect(parts).not.toBeNull();
    expect(formatLicenceId(parts!)).toBe(id);
  });
  test('refuses a changed serial', () => {
    expect(parseLicenceId(published[0]!.replace('0001.001', '0002.001'))).toBeNull();
  });
  test('check character over the alphabet', () => {
    expect(mod3736CheckChar('11100000000013338W01111430000006122244L20230000403002')).toBe('S');
  });
});
