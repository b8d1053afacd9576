/**
 * kernel/names: what a person's or organisation's name may be — invisible format characters
 * (Unicode Cf: zero-width, bidi controls), controls and separators refused; NFC kept.
 */
import { describe, expect, test } from '@jest/globals';
import { identityTextProblem, isValidName, nameProblem, normaliseName, ORGANIZATION_NAME, requireName } from './names.ts';

describe('kernel.names', () => {
  test('a name that renders as 张三 through a right-to-left override and a zero-width space is refused', () => {
    const spoof = '\u202E三张\u200B';
    expect(nameProblem(normaliseName(spoof))).toBe('format-character');
    expect(() => requireName(spoof)).toThrow(expect.objectContaining({ code: 'BAD_INPUT', details: { fields: ['name'], reason: 'format-character' } }));
  });

  test.each([
    ['zero-width space', '张\u200B三'], ['zero-width joiner', '张\u200D三'], ['zero-width non-joiner', '张\u200C三'], ['soft hyphen', '张\u00AD三'],
    ['left-to-right mark', '张三\u200E'], ['right-to-left embedding', '\u202B张三'], ['pop directional formatting', '张三\u202C'],
    ['first-strong isolate', '\u2068张三\u2069'], ['byte order mark', '\uFEFF张三'], ['word joiner', '张\u2060三'], ['Arabic letter mark', '张\u061C三'],
    ['tag character', '张三\u{E0041}'], ['control character', '张\u0007三'], ['line separator', '张\u2028三'], ['paragraph separator', '张\u2029三'],
    ['lone surrogate', '张\uD800三'], ['angle bracket', '<b>张三</b>'],
  ])('refuses a %s', (_what, name) => {
    expect(isValidName(normaliseName(name))).toBe(false);
    expect(identityTextProblem(name)).toBe('format-character');
  });

  test('names are kept in NFC without surrounding space; the decomposed form is the same name', () => {
    const decomposed = 'Zoe\u0308 ';
    expect(requireName(decomposed)).toBe('Zoë');
    expect(requireName('  阿依古丽·买买提  ')).toBe('阿依古丽·买买提');
    expect(nameProblem('Zoe\u0308')).toBe('not-normalised');
    expect(isValidName('张三')).toBe(true);
    expect(isValidName('\uE000三')).toBe(true); // private use: rare characters some registries encode there
  });

  test('lengths are counted in characters; organisation names have their own bounds', () => {
    expect(isValidName('𠀀'.repeat(50))).toBe(true); // 50 characters outside the BMP
    expect(isValidName('张'.repeat(51))).toBe(false);
    expect(() => requireName('', ORGANIZATION_NAME, 'agencyName')).toThrow(expect.objectContaining({ details: { fields: ['agencyName'], reason: 'empty' } }));
    expect(isValidName('局', ORGANIZATION_NAME)).toBe(false);
    expect(isValidName('杭州市市场监督管理局', ORGANIZATION_NAME)).toBe(true);
  });
});
