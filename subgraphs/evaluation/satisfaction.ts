/**
 * An item's satisfaction (R-EV-4: results are public): the average on the rating-interface
 * scale (5 = very satisfied), mapped from stored levels through the level table, rounded to 2
 * decimals; null when nobody has rated.
 */
import { levelInfo, type SatisfactionLevel } from './levels.ts';

export interface Satisfaction {
  average: number | null;
  count: number;
}

export function summarise(counts: ReadonlyArray<{ level: SatisfactionLevel; count: number }>): Satisfaction {
  let n = 0;
  let sum = 0;
  for (const c of counts) {
    n += c.count;
    sum += levelInfo(c.level).score * c.count;
  }
  // Integer sum and count: round once, half up, without accumulating float error.
  return { average: n === 0 ? null : Math.round((sum * 100) / n) / 100, count: n };
}
