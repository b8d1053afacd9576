/**
 * Writes to the catalogue, each announcing itself as `item.upserted` on the `items` stream in
 * the same transaction (transactional outbox), so the case service's replica of items never
 * misses a change and never sees one that was rolled back. Writing unchanged data is a no-op
 * and emits nothing, which keeps the demo seed idempotent.
 *
 * Callers pass a transaction's Queryable (db.tx) so the row and its event commit together.
 */
import type { Queryable } from '../../kernel/db.ts';
import { pgCode } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import { enqueueEvent } from '../../kernel/events.ts';
import { searchDoc, writeSearchDocs } from './search/index.ts';
import { DEFAULT_ELEMENTS } from './elements.ts';
import { checkAgainstDirectory } from './directory-check.ts';
import { validAgency, validItem, type AgencyInput, type ItemInput, type LicenceType, type Material } from './model.ts';

export const ITEMS_STREAM = 'items';
export const ITEM_UPSERTED = 'item.upserted';

export type UpsertOutcome = 'inserted' | 'updated' | 'unchanged';

/** Payload of `item.upserted` (the event contract shared with the case service). */
export interface ItemUpsertedPayload {
  [key: string]: unknown;
  id: string;
  name: string;
  agencyCode: string;
  agencyName: string;
  typeCode: string;
  caseType: string;
  legalTimeLimit: number;
  promisedTimeLimit: number;
  licenceType: LicenceType | null;
  /**
   * The item's materials, so the case service can tell which one a licence may replace (R-LI-2).
   * Optional in the event: consumers must tolerate its absence (events from older item services).
   */
  materials: ItemMaterialPayload[];
}

/** One material of `item.upserted` (paper copies are the counter's business, not the event's). */
export interface ItemMaterialPayload {
  code: string;
  name: string;
  required: boolean;
  replaceableByLicenceType: string | null;
}

interface PayloadRow {
  id: string;
  name: string;
  agency_code: string;
  agency_name: string;
  type_code: string;
  case_type: string;
  legal_time_limit: number;
  promised_time_limit: number;
  licence_type_code: string | null;
  licence_type_name: string | null;
  materials: Material[] | null;
}

/** Read back what the event announces, so the payload is exactly what was stored. */
async function announce(q: Queryable, where: string, param: string, now: Date): Promise<number> {
  const { rows } = await q.query<PayloadRow>(
    `select i.id, i.name, i.agency_code, a.name as agency_name, i.type_code, i.case_type, i.legal_time_limit,
            i.promised_time_limit, i.licence_type_code, i.licence_type_name, i.materials
     from item.items i join item.agencies a on a.code = i.agency_code where ${where} order by i.id`, [param]);
  for (const r of rows) {
    const payload: ItemUpsertedPayload = {
      id: r.id,
      name: r.name,
      agencyCode: r.agency_code,
      agencyName: r.agency_name,
      typeCode: r.type_code,
      caseType: r.case_type,
      legalTimeLimit: r.legal_time_limit,
      promisedTimeLimit: r.promised_time_limit,
      licenceType: r.licence_type_code !== null && r.licence_type_name !== null ? { code: r.licence_type_code, name: r.licence_type_name } : null,
      materials: (r.materials ?? []).map((m) => ({
        code: m.code, name: m.name, required: m.required, replaceableByLicenceType: m.replaceableByLicenceType ?? null,
      })),
    };
    await enqueueEvent(q, 'item', ITEMS_STREAM, ITEM_UPSERTED, payload, now);
  }
  return rows.length;
}

/**
 * Insert or update an agency. When its name changes, every item it implements is announced
 * again, because `item.upserted` carries the agency name.
 */
export async function upsertAgency(q: Queryable, input: AgencyInput, now: Date): Promise<UpsertOutcome> {
  const a = validAgency(input);
  const { rows } = await q.query<{ inserted: boolean; old_name: string | null }>(
    `with old as (select name from item.agencies where code = $1)
     insert into item.agencies (code, name, region_code, level, updated_at) values ($1, $2, $3, $4, $5)
     on conflict (code) do update set name = excluded.name, region_code = excluded.region_code, level = excluded.level,
       updated_at = excluded.updated_at
     where (agencies.name, agencies.region_code, agencies.level) is distinct from (excluded.name, excluded.region_code, excluded.level)
     returning (xmax = 0) as inserted, (select name from old) as old_name`,
    [a.code, a.name, a.regionCode, a.level, now]);
  const r = rows[0];
  if (!r) return 'unchanged';
  if (r.inserted) return 'inserted';
  if (r.old_name !== a.name) await announce(q, 'i.agency_code = $1', a.code, now);
  return 'updated';
}

/** Insert or update an item (R-IT-6: the one way items change); emits `item.upserted` unless unchanged. */
export async function upsertItem(q: Queryable, input: ItemInput, now: Date): Promise<UpsertOutcome> {
  const i = validItem(input);
  // R-IT-6: an implementation carries its directory entry's name and type.
  await checkAgainstDirectory(q, i);
  const agency = await q.query('select 1 from item.agencies where code = $1', [i.agencyCode]);
  if (agency.rows.length === 0) throw new AppError('BAD_INPUT', '实施机构不存在 / unknown agency', { agencyCode: 'no such agency' });
  let inserted: boolean | undefined;
  let stored: { objects: string[]; themes: string[]; online_handling: boolean } | undefined;
  try {
    const { rows } = await q.query<{ inserted: boolean; objects: string[]; themes: string[]; online_handling: boolean }>(
      `insert into item.items (id, name, basic_code, implementation_code, type_code, level, case_type, legal_time_limit,
         promised_time_limit, online_depth, visits, agency_code, materials, licence_type_code, licence_type_name, updated_at,
         objects, themes, online_handling, elements)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::smallint, $11, $12, $13::jsonb, $14, $15, $16,
         coalesce($17::text[], '{}'), coalesce($18::text[], '{}'), coalesce($19::boolean, $10::smallint >= 3),
         coalesce($20::jsonb, $21::jsonb))
       on conflict (id) do update set name = excluded.name, basic_code = excluded.basic_code,
         implementation_code = excluded.implementation_code, type_code = excluded.type_code, level = excluded.level,
         case_type = excluded.case_type, legal_time_limit = excluded.legal_time_limit,
         promised_time_limit = excluded.promised_time_limit, online_depth = excluded.online_depth, visits = excluded.visits,
         agency_code = excluded.agency_code, materials = excluded.materials, licence_type_code = excluded.licence_type_code,
         licence_type_name = excluded.licence_type_name, updated_at = excluded.updated_at,
         objects = coalesce($17::text[], items.objects), themes = coalesce($18::text[], items.themes),
         online_handling = coalesce($19::boolean, items.online_handling), elements = coalesce($20::jsonb, items.elements)
       where (items.name, items.basic_code, items.implementation_code, items.type_code, items.level, items.case_type,
              items.legal_time_limit, items.promised_time_limit, items.online_depth, items.visits, items.agency_code,
              items.materials, items.licence_type_code, items.licence_type_name, items.objects, items.themes, items.online_handling, items.elements)
         is distinct from
             (excluded.name, excluded.basic_code, excluded.implementation_code, excluded.type_code, excluded.level,
              excluded.case_type, excluded.legal_time_limit, excluded.promised_time_limit, excluded.online_depth,
              excluded.visits, excluded.agency_code, excluded.materials, excluded.licence_type_code, excluded.licence_type_name,
              coalesce($17::text[], items.objects), coalesce($18::text[], items.themes), coalesce($19::boolean, items.online_handling),
              coalesce($20::jsonb, items.elements))
       returning (xmax = 0) as inserted, objects, themes, online_handling`,
      [i.id, i.name, i.basicCode, i.implementationCode, i.typeCode, i.level, i.caseType, i.legalTimeLimit,
        i.promisedTimeLimit, i.onlineDepth, i.visits, i.agencyCode, JSON.stringify(i.materials),
        i.licenceType?.code ?? null, i.licenceType?.name ?? null, now, i.objects, i.themes, i.onlineHandling,
        i.elements ? JSON.stringify(i.elements) : null, JSON.stringify(DEFAULT_ELEMENTS)]);
    inserted = rows[0]?.inserted;
    stored = rows[0];
  } catch (e) {
    if (pgCode(e) === '23505') {
      throw new AppError('BAD_INPUT', '实施编码已被其他事项使用 / implementation code already used by another item', { implementationCode: 'already used' });
    }
    throw e;
  }
  if (inserted === undefined || !stored) return 'unchanged';
  await writeSearchDocs(q, [searchDoc({ ...i, objects: stored.objects, themes: stored.themes, onlineHandling: stored.online_handling })]);
  await announce(q, 'i.id = $1', i.id, now);
  return inserted ? 'inserted' : 'updated';
}
