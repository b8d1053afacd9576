/**
 * The five satisfaction levels (R-EV-4) and their two national codings, which run in opposite
 * directions: GB/T 39046 codes 1 = very satisfied … 5 = very dissatisfied; the rating interfaces
 * (GB/T 39734/39735 practice) score 5 = very satisfied … 1 = very dissatisfied. Ratings are
 * stored by level label only, and every boundary maps through this one table — never by
 * arithmetic on one coding to get the other.
 */
import { AppError } from '../../kernel/errors.ts';

export interface LevelInfo {
  readonly level: SatisfactionLevel;
  readonly gbCode: number;
  readonly score: number;
  readonly label: string;
  /** A bad rating needs a reason (R-EV-4; schema: "the two bad levels"). */
  readonly needsReason: boolean;
}

export const SATISFACTION_LEVELS = [
  { level: 'VERY_SATISFIED', gbCode: 1, score: 5, label: '非常满意', needsReason: false },
  { level: 'SATISFIED', gbCode: 2, score: 4, label: '满意', needsReason: false },
  { level: 'BASICALLY_SATISFIED', gbCode: 3, score: 3, label: '基本满意', needsReason: false },
  { level: 'DISSATISFIED', gbCode: 4, score: 2, label: '不满意', needsReason: true },
  { level: 'VERY_DISSATISFIED', gbCode: 5, score: 1, label: '非常不满意', needsReason: true },
] as const;

export type SatisfactionLevel = (typeof SATISFACTION_LEVELS)[number]['level'];

const BY_LEVEL: ReadonlyMap<string, LevelInfo> = new Map(SATISFACTION_LEVELS.map((l) => [l.level, l]));

export function isSatisfactionLevel(s: string): s is SatisfactionLevel {
  return BY_LEVEL.has(s);
}

export function levelInfo(level: string): LevelInfo {
  const l = BY_LEVEL.get(level);
  if (!l) throw new AppError('BAD_INPUT', `未知的满意度 / unknown satisfaction level ${level}`, { level: 'unknown' });
  return l;
}

export function levelFromGbCode(code: number): LevelInfo {
  const l = SATISFACTION_LEVELS.find((x) => x.gbCode === code);
  if (!l) throw new AppError('BAD_INPUT', `未知的满意度代码 / unknown GB/T 39046 satisfaction code ${code}`, { gbCode: '1..5' });
  return l;
}

export function levelFromScore(score: number): LevelInfo {
  const l = SATISFACTION_LEVELS.find((x) => x.score === score);
  if (!l) throw new AppError('BAD_INPUT', `未知的评分 / unknown satisfaction score ${score}`, { score: '1..5' });
  return l;
}
