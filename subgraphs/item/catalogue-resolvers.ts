/**
 * GraphQL side of catalogue management (R-IT-1 … R-IT-6): directory entries, the element set,
 * versions and change requests. Reading the catalogue is public; history and requests are for
 * staff of the item's agency; writes go through catalogue.ts in one transaction each.
 */
import type { Db } from '../../kernel/db.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { isUuid, type Item, type Material } from './model.ts';
import type { ItemContext } from './context.ts';
import { itemTypeName } from './types.ts';
import {
  canonical, decideChange, requestChange, supersededError, requestsOfAgency, rowToDirectory, versionsOf,
  type DirectoryEntry, type DirectoryInput, type ItemVersion, type VersionStatus,
} from './catalogue.ts';
import type { ItemInput } from './model.ts';
import { decideDirectoryChange, directoryChangesFor, requestDirectoryChange, type DirectoryChange } from './directory-changes.ts';

function directoryChangeOut(c: DirectoryChange) {
  return {
    id: c.id, basicCode: c.basicCode, regionCode: c.regionCode, level: c.level, name: c.data.name, typeCode: c.data.typeCode,
    legalBasis: c.data.legalBasis, kind: c.data.kind.toUpperCase(), parentCode: c.data.parentCode ?? null, isNew: c.isNew,
    status: c.status.toUpperCase(), requestedByName: c.requestedByName, requestedByAgency: c.requestedByAgency,
    requestedAt: c.requestedAt.toISOString(), decidedByName: c.decidedByName, decidedByAgency: c.decidedByAgency,
    decidedAt: c.decidedAt?.toISOString() ?? null, reason: c.reason,
  };
}

const noSuchDirectoryChange = () => new AppError('NOT_FOUND', '变更请求不存在 / no such change request');

const DIRECTORY_COLUMNS = 'basic_code, region_code, level, name, type_code, legal_basis, kind, parent_code';

function versionOut(v: ItemVersion, base: ItemInput | null) {
  const data = v.data as unknown as Record<string, unknown>;
  const before = (base ?? {}) as Record<string, unknown>;
  const changedFields = Object.keys({ ...data, ...before }).filter((k) => canonical(data[k] ?? null) !== canonical(before[k] ?? null)).sort();
  return {
    itemId: v.itemId, version: v.version, baseVersion: v.baseVersion, status: v.status.toUpperCase(), source: v.source.toUpperCase(),
    name: String(data.name ?? ''), requestedByName: v.requestedByName, requestedAt: v.requestedAt.toISOString(),
    decidedByName: v.decidedByName, decidedAt: v.decidedAt?.toISOString() ?? null, reason: v.reason, changedFields,
  };
}

/** Each version with the fields it changes against its base version. */
function withChanges(all: ItemVersion[], list: ItemVersion[]) {
  const by = new Map(all.map((v) => [`${v.itemId}:${v.version}`, v]));
  return list.map((v) => versionOut(v, by.get(`${v.itemId}:${v.baseVersion}`)?.data ?? null));
}

const STATUSES: Record<string, VersionStatus> = { PENDING: 'pending', APPROVED: 'approved', REJECTED: 'rejected', SUPERSEDED: 'superseded' };

/** GraphQL input → the model's input: enums and absent optionals as the model expects them. */
function toInput(i: Record<string, unknown>): ItemInput {
  const strip = (o: unknown): unknown => {
    if (Array.isArray(o)) return o.map(strip);
    if (o && typeof o === 'object') return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, strip(v)]));
    return o;
  };
  const out = strip(i) as Record<string, unknown>;
  if (typeof out.id === 'string') out.id = out.id.toLowerCase();
  out.licenceType = i.licenceType ?? null;
  return out as unknown as ItemInput;
}

export function catalogueResolvers(db: Db, clock: Clock) {
  const directoryRows = async (where: string, params: unknown[]) =>
    (await db.query(`select ${DIRECTORY_COLUMNS} from item.directory_entries where ${where} order by level, kind, basic_code, region_code`, params)).rows.map(rowToDirectory);
  return {
    Query: {
      directory: (_: unknown, a: { level?: number | null; parentCode?: string | null }) => {
        if (a.level !== null && a.level !== undefined && (!Number.isInteger(a.level) || a.level < 1 || a.level > 3)) {
          throw new AppError('BAD_INPUT', '目录层级须为 1 到 3 / directory level must be 1 to 3', { level: '1..3' });
        }
        return directoryRows('($1::int is null or level = $1) and ($2::text is null and parent_code is null or parent_code = $2)', [a.level ?? null, a.parentCode ?? null]);
      },
      directoryChangeRequests: async (_: unknown, a: { status?: string | null }, ctx: ItemContext) =>
        (await directoryChangesFor(db, ctx.caller, STATUSES[a.status ?? 'PENDING'] ?? 'pending')).map(directoryChangeOut),
      itemChangeRequests: async (_: unknown, a: { status?: string | null }, ctx: ItemContext) => {
        const c = ctx.caller;
        if (c.kind !== 'staff') throw new AppError('FORBIDDEN', '仅限工作人员 / staff only');
        const list = await requestsOfAgency(db, c.agency, STATUSES[a.status ?? 'PENDING'] ?? 'pending');
        const all = (await Promise.all([...new Set(list.map((v) => v.itemId))].map((id) => versionsOf(db, id)))).flat();
        return withChanges(all, list);
      },
    },
    Mutation: {
      requestDirectoryChange: async (_: unknown, a: { input: Record<string, unknown>; requestKey: string }, ctx: ItemContext) => {
        const i = a.input;
        const input = { ...i, kind: typeof i.kind === 'string' ? i.kind.toLowerCase() : i.kind, parentCode: i.parentCode ?? null } as DirectoryInput;
        return directoryChangeOut(await db.tx((q) => requestDirectoryChange(q, ctx.caller, input, a.requestKey, clock.now())));
      },
      approveDirectoryChange: async (_: unknown, a: { id: string }, ctx: ItemContext) => {
        if (!isUuid(a.id)) throw noSuchDirectoryChange();
        const c = await db.tx((q) => decideDirectoryChange(q, ctx.caller, a.id.toLowerCase(), { approve: true }, clock.now()));
        if (c.status === 'superseded') {
          throw new AppError('CONFLICT', '目录已有更新的版本，请基于现行目录重新提交 / the entry changed since: request the change again', { reason: c.reason ?? '' });
        }
        return (await directoryRows('basic_code = $1 and region_code = $2', [c.basicCode, c.regionCode]))[0];
      },
      rejectDirectoryChange: async (_: unknown, a: { id: string; reason: string }, ctx: ItemContext) => {
        if (!isUuid(a.id)) throw noSuchDirectoryChange();
        return directoryChangeOut(await db.tx((q) => decideDirectoryChange(q, ctx.caller, a.id.toLowerCase(), { approve: false, reason: a.reason }, clock.now())));
      },
      requestItemChange: async (_: unknown, a: { input: Record<string, unknown>; requestKey: string }, ctx: ItemContext) => {
        const input = toInput(a.input);
        const v = await db.tx((q) => requestChange(q, ctx.caller, input, a.requestKey, clock.now()));
        return withChanges(await versionsOf(db, v.itemId), [v])[0];
      },
      approveItemChange: async (_: unknown, a: { itemId: string; version: number }, ctx: ItemContext) => {
        if (!isUuid(a.itemId)) throw new AppError('NOT_FOUND', '变更请求不存在 / no such change request');
        const id = a.itemId.toLowerCase();
        const v = await db.tx((q) => decideChange(q, ctx.caller, id, a.version, { approve: true }, clock.now()));
        if (v.status === 'superseded') throw supersededError(v);
        return ctx.loaders.item(id);
      },
      rejectItemChange: async (_: unknown, a: { itemId: string; version: number; reason: string }, ctx: ItemContext) => {
        if (!isUuid(a.itemId)) throw new AppError('NOT_FOUND', '变更请求不存在 / no such change request');
        const id = a.itemId.toLowerCase();
        const v = await db.tx((q) => decideChange(q, ctx.caller, id, a.version, { approve: false, reason: a.reason }, clock.now()));
        return withChanges(await versionsOf(db, id), [v])[0];
      },
    },
    Item: {
      elements: (i: Item) => i.elements,
      version: (i: Item) => i.version,
      directoryEntry: async (i: Item) => (await directoryRows('basic_code = $1', [i.basicCode]))
        // The entry closest to the implementation: the most local level not below it.
        .sort((a, b) => b.level - a.level).find((e) => e.level <= i.level) ?? null,
      versions: async (i: Item, _: unknown, ctx: ItemContext) => {
        const c = ctx.caller;
        if (c.kind !== 'staff' || c.agency !== i.agencyCode) throw new AppError('FORBIDDEN', '仅限本事项实施机构的工作人员 / staff of the item\'s agency only');
        const all = await versionsOf(db, i.id);
        return withChanges(all, all);
      },
    },
    Material: {
      type: (m: Material) => m.type ?? 'ORIGINAL',
      sampleUrl: (m: Material) => m.sampleUrl ?? '',
      formUrl: (m: Material) => m.formUrl ?? '',
      sourceChannel: (m: Material) => m.sourceChannel ?? 'APPLICANT',
      instructions: (m: Material) => m.instructions ?? '',
      acceptanceStandard: (m: Material) => m.acceptanceStandard ?? '',
      electronicRequired: (m: Material) => m.electronicRequired ?? false,
    },
    DirectoryEntry: {
      kind: (e: DirectoryEntry) => e.kind.toUpperCase(),
      typeName: (e: DirectoryEntry) => itemTypeName(e.typeCode),
      parent: async (e: DirectoryEntry) => (e.parentCode ? (await directoryRows('basic_code = $1', [e.parentCode])).sort((a, b) => b.level - a.level)[0] ?? null : null),
      children: (e: DirectoryEntry) => directoryRows('parent_code = $1 and region_code = $2', [e.basicCode, e.regionCode]),
      implementations: async (e: DirectoryEntry, _: unknown, ctx: ItemContext) => {
        const { rows } = await db.query<{ id: string }>('select id from item.items where basic_code = $1 order by name, id', [e.basicCode]);
        return (await Promise.all(rows.map((r) => ctx.loaders.item(r.id)))).filter((x) => x !== null);
      },
    },
  };
}
