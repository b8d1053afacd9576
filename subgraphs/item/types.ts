/**
 * Item type codes (事项类型) of GB/T 39046 with their zh-CN names (R-IT-5 classification:
 * nature = administrative power 01-10 vs public service 20). See shared/docs/standards.md.
 */
import { AppError } from '../../kernel/errors.ts';

export const ITEM_TYPE_NAMES = {
  '01': '行政许可',
  '02': '行政处罚',
  '03': '行政强制',
  '04': '行政征收',
  '05': '行政给付',
  '06': '行政检查',
  '07': '行政确认',
  '08': '行政奖励',
  '09': '行政裁决',
  '10': '其他行政权力',
  '20': '公共服务',
} as const;

export type ItemTypeCode = keyof typeof ITEM_TYPE_NAMES;

export function isItemTypeCode(code: string): code is ItemTypeCode {
  return Object.hasOwn(ITEM_TYPE_NAMES, code);
}

/** The zh-CN name of a type code; the database only holds known codes (check constraint). */
export function itemTypeName(code: string): string {
  if (!isItemTypeCode(code)) throw new AppError('INTERNAL', `unknown item type code ${code}`);
  return ITEM_TYPE_NAMES[code];
}
