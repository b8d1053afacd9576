/**
 * Names of people and organisations, wherever they enter the platform (registration, counter,
 * company binding, linked platforms, licences, seal certificates) and wherever they are shown
 * as an identity (a verified licence's holder, issuer and legal representative).
 *
 * A name is stored and compared in Unicode Normalization Form C (the composed form), without
 * surrounding white space. Refused anywhere in it:
 * - format characters (general category Cf): zero-width space and joiners, soft hyphen, the
 *   bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), the byte
 *   order mark, tag characters … — invisible, they make `\u202E三张\u200B` render as 张三;
 * - control characters (Cc), line and paragraph separators (Zl, Zp) and lone surrogates (Cs);
 * - `<` and `>` (names are shown on pages and printed on licences).
 * Private-use characters (Co) stay allowed: some registries encode rare characters (生僻字) there.
 */
import { AppError } from './errors.ts';

export interface NameRule {
  /** Fewest characters (code points). */
  min: number;
  /** Most characters (code points). */
  max: number;
  /** What the name is, for messages: [Chinese, English]. */
  label: readonly [string, string];
}

export const PERSON_NAME: NameRule = { min: 1, max: 50, label: ['姓名', 'the name'] };
export const ORGANIZATION_NAME: NameRule = { min: 2, max: 100, label: ['单位名称', 'the organization name'] };

/** Characters a name (or any identity text shown as such) must not contain. */
export const FORBIDDEN_IN_NAME = /[\p{Cf}\p{Cc}\p{Zl}\p{Zp}\p{Cs}<>]/u;

/**
 * The form a name is kept in: NFC, without surrounding white space (Unicode White_Space only:
 * String#trim would also drop a byte order mark, which must be refused, not hidden). Does not
 * judge it (see isValidName).
 */
export function normaliseName(value: string): string {
  return value.normalize('NFC').replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');
}

/** Why a text cannot be shown as an identity: 'format-character' (Cf, Cc, Zl, Zp, Cs, < >), or null. */
export function identityTextProblem(value: string): 'format-character' | null {
  return FORBIDDEN_IN_NAME.test(value) ? 'format-character' : null;
}

/** Why `value` is not an acceptable name under `rule`, or null when it is. */
export function nameProblem(value: string, rule: NameRule = PERSON_NAME): 'empty' | 'length' | 'format-character' | 'not-normalised' | null {
  if (value.length === 0) return 'empty';
  if (identityTextProblem(value)) return 'format-character';
  if (value !== normaliseName(value)) return 'not-normalised';
  const n = [...value].length;
  return n < rule.min || n > rule.max ? 'length' : null;
}

/** True when `value` is a name in its kept form (normaliseName) that `rule` accepts. */
export function isValidName(value: string, rule: NameRule = PERSON_NAME): boolean {
  return nameProblem(value, rule) === null;
}

/**
 * The refusal of a name `rule` does not accept: BAD_INPUT with `{ fields: [field], reason }` —
 * reason 'format-character' (an invisible, format or control character, or < >), 'length',
 * 'empty' or 'not-normalised'.
 */
export function nameError(value: string, rule: NameRule = PERSON_NAME, field = 'name'): AppError {
  const problem = nameProblem(value, rule) ?? 'empty';
  const [zh, en] = rule.label;
  const message = problem === 'format-character'
    ? `${zh}含有不可见字符、控制字符或 < > / ${en} contains an invisible, format or control character, or < >`
    : problem === 'empty' ? `请填写${zh} / ${en} is required`
      : problem === 'not-normalised' ? `${zh}须为 Unicode NFC 形式，首尾无空白 / ${en} must be in Unicode NFC form without surrounding spaces`
        : `${zh}长度须为 ${rule.min}–${rule.max} 个字符 / ${en} must be ${rule.min} to ${rule.max} characters long`;
  return new AppError('BAD_INPUT', message, { fields: [field], reason: problem });
}

/** The name as kept (normaliseName), or nameError's refusal. */
export function requireName(value: unknown, rule: NameRule = PERSON_NAME, field = 'name'): string {
  const name = normaliseName(typeof value === 'string' ? value : '');
  if (!isValidName(name, rule)) throw nameError(name, rule, field);
  return name;
}
