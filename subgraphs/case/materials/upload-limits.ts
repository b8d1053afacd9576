/**
 * Limits on uploads (R-CA-1): an upload address works once (a leaked or
 * replayed address cannot add more files for 10 minutes), and a case holds a bounded number of
 * material rows (re-uploads included), so one applicant cannot fill the store through one case.
 */
import type { Queryable } from '../../../kernel/db.ts';
import { AppError } from '../../../kernel/errors.ts';
import { CASE_SCHEMA as S } from '../migrations.ts';

/** Material rows per case, re-uploads included: far above any item's list (R-CA-1 lists ~10–30). */
export const MAX_MATERIAL_ROWS = 100;

const used = () => new AppError('UPLOAD_TOKEN_INVALID', '上传地址已使用，请重新获取 / this upload address was already used; request a new one');

/** Refuse before storing bytes when the address was already used (the transaction decides). */
export async function tokenUnused(q: Queryable, jti: string | undefined): Promise<void> {
  if (!jti) throw used();
  const { rows } = await q.query(`select 1 from ${S}.case_upload_tokens where jti = $1`, [jti]);
  if (rows.length) throw used();
}

/** Spend the address, inside the transaction that adds the material (the case row is locked). */
export async function spendToken(q: Queryable, jti: string | undefined, caseId: string, now: Date): Promise<void> {
  if (!jti) throw used();
  const { rowCount } = await q.query(
    `insert into ${S}.case_upload_tokens (jti, case_id, at) values ($1, $2, $3) on conflict do nothing`, [jti, caseId, now]);
  if (!rowCount) throw used();
}

/** MATERIAL_LIMIT_REACHED when the case already holds MAX_MATERIAL_ROWS material rows. */
export async function underMaterialCap(q: Queryable, caseId: string): Promise<void> {
  const { rows } = await q.query<{ n: number }>(`select count(*)::int as n from ${S}.case_materials where case_id = $1`, [caseId]);
  if ((rows[0]?.n ?? 0) >= MAX_MATERIAL_ROWS) {
    throw new AppError('MATERIAL_LIMIT_REACHED', `每个办件最多提交${MAX_MATERIAL_ROWS}份材料 / at most ${MAX_MATERIAL_ROWS} materials per case`, { max: MAX_MATERIAL_ROWS });
  }
}
