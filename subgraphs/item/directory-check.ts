/**
 * R-IT-6: the same item (basic code) keeps its name and type at every directory level and in
 * every implementation. Checked on every write of an implemented item (upsert.ts) and of a
 * directory entry (catalogue.ts); a mismatch is CATALOGUE_INCONSISTENT naming the fields.
 */
import type { Queryable } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';

export const inconsistent = (basicCode: string, fields: Record<string, string>) => new AppError('CATALOGUE_INCONSISTENT',
  `同一事项（基本编码 ${basicCode}）在各层级的名称、类型、设定依据须一致 / the same item must keep its name, type and legal basis at every level`, fields);

export async function checkAgainstDirectory(q: Queryable, i: { basicCode: string; name: string; typeCode: string }): Promise<void> {
  const { rows } = await q.query<{ name: string; type_code: string; region_code: string }>(
    'select name, type_code, region_code from item.directory_entries where basic_code = $1 order by level limit 1', [i.basicCode]);
  const e = rows[0];
  if (!e) return;
  const diff: Record<string, string> = {};
  if (e.name !== i.name) diff.name = `the directory names it ${e.name}`;
  if (e.type_code !== i.typeCode) diff.typeCode = `the directory types it ${e.type_code}`;
  if (Object.keys(diff).length > 0) throw inconsistent(i.basicCode, diff);
}
