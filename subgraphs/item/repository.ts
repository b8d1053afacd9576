/**
 * Reads of the item catalogue (schema `item`). Rows are mapped to model.ts types here so the
 * rest of the service never sees column names.
 */
import type { Queryable } from '../../kernel/db.ts';
import type { Agency, Item, Material } from './model.ts';
import { DEFAULT_ELEMENTS, type ItemElements } from './elements.ts';

export interface ItemRow {
  id: string;
  name: string;
  basic_code: string;
  implementation_code: string;
  type_code: string;
  level: number;
  case_type: string;
  legal_time_limit: number;
  promised_time_limit: number;
  online_depth: number;
  visits: number;
  agency_code: string;
  materials: Material[] | string;
  licence_type_code: string | null;
  licence_type_name: string | null;
  updated_at: Date | string;
  objects: string[];
  themes: string[];
  online_handling: boolean;
  elements: Partial<ItemElements> | string;
  version: number;
}

interface AgencyRow {
  code: string;
  name: string;
  region_code: string;
  level: number;
}

export const ITEM_COLUMNS = `id, name, basic_code, implementation_code, type_code, level, case_type, legal_time_limit,
  promised_time_limit, online_depth, visits, agency_code, materials, licence_type_code, licence_type_name, updated_at, objects, themes, online_handling, elements, version`;

const AGENCY_COLUMNS = 'code, name, region_code, level';

export function toItem(r: ItemRow): Item {
  return {
    id: r.id,
    name: r.name,
    basicCode: r.basic_code,
    implementationCode: r.implementation_code,
    typeCode: r.type_code,
    level: r.level,
    caseType: r.case_type,
    legalTimeLimit: r.legal_time_limit,
    promisedTimeLimit: r.promised_time_limit,
    onlineDepth: r.online_depth,
    visits: r.visits,
    agencyCode: r.agency_code,
    materials: typeof r.materials === 'string' ? JSON.parse(r.materials) as Material[] : r.materials,
    licenceType: r.licence_type_code !== null && r.licence_type_name !== null ? { code: r.licence_type_code, name: r.licence_type_name } : null,
    objects: r.objects,
    themes: r.themes,
    onlineHandling: r.online_handling,
    elements: { ...DEFAULT_ELEMENTS, ...(typeof r.elements === 'string' ? JSON.parse(r.elements) as Partial<ItemElements> : r.elements) },
    version: r.version,
    updatedAt: new Date(r.updated_at),
  };
}

function toAgency(r: AgencyRow): Agency {
  return { code: r.code, name: r.name, regionCode: r.region_code, level: r.level };
}

/** Escape LIKE metacharacters so the user's text matches literally (with `escape '\'`). */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export interface ItemRepository {
  /**
   * Fuzzy search (R-IT-7) over name, basic code and implementation code, case-insensitive.
   * Exact matches first, then prefix matches, then the rest; by name within each rank.
   * An empty keyword lists every item by name.
   */
  search(keyword: string, first: number): Promise<Item[]>;
  itemsByIds(ids: readonly string[]): Promise<Item[]>;
  itemsByAgencies(codes: readonly string[]): Promise<Item[]>;
  agencies(): Promise<Agency[]>;
  agenciesByCodes(codes: readonly string[]): Promise<Agency[]>;
  popularity(ids: readonly string[]): Promise<Array<{ id: string; popularity: number }>>;
}

export function itemRepository(db: Queryable): ItemRepository {
  return {
    async search(keyword, first) {
      if (keyword === '') {
        const { rows } = await db.query<ItemRow>(`select ${ITEM_COLUMNS} from item.items order by name, id limit $1`, [first]);
        return rows.map(toItem);
      }
      const lit = escapeLike(keyword);
      const { rows } = await db.query<ItemRow>(
        `select ${ITEM_COLUMNS} from item.items
         where name ilike $3 escape '\\' or basic_code ilike $3 escape '\\' or implementation_code ilike $3 escape '\\'
         order by case
           when name ilike $1 escape '\\' or basic_code ilike $1 escape '\\' or implementation_code ilike $1 escape '\\' then 0
           when name ilike $2 escape '\\' or basic_code ilike $2 escape '\\' or implementation_code ilike $2 escape '\\' then 1
           else 2 end, name, id
         limit $4`,
        [lit, `${lit}%`, `%${lit}%`, first]);
      return rows.map(toItem);
    },
    async itemsByIds(ids) {
      if (ids.length === 0) return [];
      const { rows } = await db.query<ItemRow>(`select ${ITEM_COLUMNS} from item.items where id = any($1::uuid[])`, [ids]);
      return rows.map(toItem);
    },
    async itemsByAgencies(codes) {
      if (codes.length === 0) return [];
      const { rows } = await db.query<ItemRow>(`select ${ITEM_COLUMNS} from item.items where agency_code = any($1::text[]) order by name, id`, [codes]);
      return rows.map(toItem);
    },
    async agencies() {
      const { rows } = await db.query<AgencyRow>(`select ${AGENCY_COLUMNS} from item.agencies order by level, code`);
      return rows.map(toAgency);
    },
    async popularity(ids) {
      if (ids.length === 0) return [];
      const { rows } = await db.query<{ id: string; popularity: number }>(
        'select item_id as id, popularity from item.search_docs where item_id = any($1::uuid[])', [ids]);
      return rows;
    },
    async agenciesByCodes(codes) {
      if (codes.length === 0) return [];
      const { rows } = await db.query<AgencyRow>(`select ${AGENCY_COLUMNS} from item.agencies where code = any($1::text[])`, [codes]);
      return rows.map(toAgency);
    },
  };
}
