import { describe, expect, test } from '@jest/globals';
import { DEMO_AGENCIES, DEMO_CITIZEN, DEMO_ITEMS, DEMO_LICENCE_TYPES } from './demo.ts';
import { isValidCreditCode, isValidIdNumber } from './ids.ts';

describe('demo.data', () => {
  test('every agency and licence-type credit code has a valid GB 32100 check character', () => {
    for (const a of DEMO_AGENCIES) expect(isValidCreditCode(a.code)).toBe(true);
    for (const t of Object.values(DEMO_LICENCE_TYPES)) expect(isValidCreditCode(t.code.slice(0, 18))).toBe(true);
  });
  test('every item belongs to a demo agency', () => {
    const codes = new Set<string>(DEMO_AGENCIES.map((a) => a.code));
    for (const i of DEMO_ITEMS) expect(codes.has(i.agencyCode)).toBe(true);
  });
  test('the demo citizen has a valid ID number', () => {
    expect(isValidIdNumber(DEMO_CITIZEN.idNumber)).toBe(true);
  });
});
