/**
 * Free text people write here (complaints, answers, notes of a follow-up): trimmed, in NFC, and
 * 1 … max characters counted as code points (as the database's char_length counts), else
 * BAD_INPUT naming the field.
 */
import { AppError } from '../../kernel/errors.ts';

export function requiredText(field: string, v: unknown, max: number): string {
  const s = typeof v === 'string' ? v.trim().normalize('NFC') : '';
  if (!s || [...s].length > max) throw new AppError('BAD_INPUT', `${field} 须为 1 到 ${max} 字 / ${field} must be 1..${max} characters`, { [field]: `1..${max} characters` });
  return s;
}
