/**
 * The search index (R-IT-7): one `item.search_docs` row per item, written in the same
 * transaction as the item itself (upsert.ts), so search never shows a version other than the
 * current one. Popularity is kept across rewrites: it comes from case events (popularity.ts).
 */
import type { Queryable } from '../../../kernel/db.ts';
import { THEMES, isTheme } from '../codes.ts';
import type { Item } from '../model.ts';
import { GRAMS_VERSION, documentGrams, normalise } from './text.ts';

export interface SearchDoc {
  item_id: string;
  name: string;
  name_norm: string;
  codes: string;
  body: string;
  grams: string[];
  agency_code: string;
  type_code: string;
  level: number;
  online_depth: number;
  online_handling: boolean;
  objects: string[];
  themes: string[];
  /** The gram cutting the document was written with (text.ts GRAMS_VERSION). */
  grams_version: number;
}

type Indexable = Pick<Item, 'id' | 'name' | 'basicCode' | 'implementationCode' | 'agencyCode' | 'typeCode' | 'level'
  | 'onlineDepth' | 'onlineHandling' | 'objects' | 'themes'> & { materials: ReadonlyArray<{ name: string }> };

export function searchDoc(i: Indexable): SearchDoc {
  const themeNames = i.themes.filter(isTheme).map((t) => THEMES[t].zh);
  const body = [...i.materials.map((m) => m.name), ...themeNames].join('\n');
  return {
    item_id: i.id,
    name: i.name,
    name_norm: normalise(i.name),
    // Space-delimited so a code can be matched whole (' code ') or by prefix (' code').
    codes: ` ${normalise(i.basicCode)} ${normalise(i.implementationCode)} `,
    body: normalise(body),
    grams: documentGrams(i.name, i.basicCode, i.implementationCode, body),
    agency_code: i.agencyCode,
    type_code: i.typeCode,
    level: i.level,
    online_depth: i.onlineDepth,
    online_handling: i.onlineHandling,
    objects: [...i.objects],
    themes: [...i.themes],
    grams_version: GRAMS_VERSION,
  };
}

export const SEARCH_DOC_COLUMNS = ['item_id', 'name', 'name_norm', 'codes', 'body', 'grams', 'agency_code', 'type_code', 'level',
  'online_depth', 'online_handling', 'objects', 'themes', 'grams_version'] as const;

/** Write many documents at once (JSON in, one statement), keeping each row's popularity. */
export async function writeSearchDocs(q: Queryable, docs: readonly SearchDoc[]): Promise<void> {
  if (docs.length === 0) return;
  const cols = SEARCH_DOC_COLUMNS.join(', ');
  const updates = SEARCH_DOC_COLUMNS.filter((c) => c !== 'item_id').map((c) => `${c} = excluded.${c}`).join(', ');
  await q.query(
    `insert into item.search_docs (${cols})
     select ${cols} from json_populate_recordset(null::item.search_docs, $1::json)
     on conflict (item_id) do update set ${updates}`,
    [JSON.stringify(docs)]);
}

/**
 * Index the items that have no document yet (items written before the index existed) and cut
 * again those written with an older gram version; popularity is kept (writeSearchDocs).
 */
export async function backfillSearchDocs(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ id: string; name: string; basic_code: string; implementation_code: string; agency_code: string;
    type_code: string; level: number; online_depth: number; online_handling: boolean; objects: string[]; themes: string[];
    materials: Array<{ name: string }> | string }>(
    `select i.id, i.name, i.basic_code, i.implementation_code, i.agency_code, i.type_code, i.level, i.online_depth,
            i.online_handling, i.objects, i.themes, i.materials
     from item.items i where not exists (select 1 from item.search_docs d where d.item_id = i.id and d.grams_version >= $1)`, [GRAMS_VERSION]);
  const docs = rows.map((r) => searchDoc({
    id: r.id, name: r.name, basicCode: r.basic_code, implementationCode: r.implementation_code, agencyCode: r.agency_code,
    typeCode: r.type_code, level: r.level, onlineDepth: r.online_depth, onlineHandling: r.online_handling,
    objects: r.objects, themes: r.themes, materials: typeof r.materials === 'string' ? JSON.parse(r.materials) as Array<{ name: string }> : r.materials,
  }));
  for (let k = 0; k < docs.length; k += 1000) await writeSearchDocs(q, docs.slice(k, k + 1000));
  return docs.length;
}
