import { describe, expect, test } from '@jest/globals';
import { SATISFACTION_LEVELS, levelFromGbCode, levelFromScore, levelInfo } from './levels.ts';
import { summarise } from './satisfaction.ts';

/** R-EV-4 / standards.md: GB/T 39046 codes 1 = very satisfied; rating-interface scores 5 = very satisfied. */
const TABLE = [
  ['VERY_SATISFIED', 1, 5, '非常满意', false],
  ['SATISFIED', 2, 4, '满意', false],
  ['BASICALLY_SATISFIED', 3, 3, '基本满意', false],
  ['DISSATISFIED', 4, 2, '不满意', true],
  ['VERY_DISSATISFIED', 5, 1, '非常不满意', true],
] as const;

describe('evaluation.levels (R-EV-4)', () => {
  test.each(TABLE)('%s ↔ gbCode %d ↔ score %d ↔ %s (reason required: %s)', (level, gbCode, score, label, needsReason) => {
    expect(levelInfo(level)).toEqual({ level, gbCode, score, label, needsReason });
    expect(levelFromGbCode(gbCode).level).toBe(level);
    expect(levelFromScore(score).level).toBe(level);
  });

  test('the table has exactly the five levels, in order', () => {
    expect(SATISFACTION_LEVELS.map((l) => l.level)).toEqual(TABLE.map((r) => r[0]));
  });

  test.each([
    ['an unknown level', () => levelInfo('OK')],
    ['GB code 0', () => levelFromGbCode(0)],
    ['GB code 6', () => levelFromGbCode(6)],
    ['score 0', () => levelFromScore(0)],
  ])('%s is BAD_INPUT', (_what, f) => {
    expect(f).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});

describe('evaluation.satisfaction', () => {
  test('no ratings: average null, count 0', () => {
    expect(summarise([])).toEqual({ average: null, count: 0 });
  });

  test('the average is on the 5 = very satisfied scale, rounded to 2 decimals', () => {
    expect(summarise([{ level: 'VERY_SATISFIED', count: 1 }, { level: 'SATISFIED', count: 1 }, { level: 'DISSATISFIED', count: 1 }]))
      .toEqual({ average: 3.67, count: 3 });
    expect(summarise([{ level: 'VERY_DISSATISFIED', count: 2 }])).toEqual({ average: 1, count: 2 });
    // 187 / 40 = 4.675 exactly: rounds half up to 4.68 (float arithmetic on 4.675 would give 4.67).
    expect(summarise([{ level: 'VERY_SATISFIED', count: 27 }, { level: 'SATISFIED', count: 13 }])).toEqual({ average: 4.68, count: 40 });
  });
});
