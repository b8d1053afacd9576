/**
 * GraphQL side of search and discovery (R-IT-7). Everything here is public (R-ID-13); the
 * caller is read only to personalise recommendations. Bad arguments are BAD_INPUT with the
 * offending argument named.
 */
import type { Queryable } from '../../../kernel/db.ts';
import type { Clock } from '../../../kernel/clock.ts';
import { AppError } from '../../../kernel/errors.ts';
import { SERVICE_OBJECTS, THEMES, isServiceObject, isTheme, themesForObject, type ServiceObjectCode, type ThemeCode } from '../codes.ts';
import { isItemTypeCode } from '../types.ts';
import { isUuid, type Item } from '../model.ts';
import type { ItemContext } from '../context.ts';
import { parseQuery, highlight, type ParsedQuery } from './text.ts';
import { DEFAULT_TUNING, runSearch, type SearchFilter, type SearchTuning } from './query.ts';
import { markRead, notificationsOf, unreadCount, type NotificationRow } from '../notifications.ts';
import { hotItems, recommendedItems, relatedItems, subscribe, subscriptionsOf, unsubscribe } from './discover.ts';
import { applicantDigest } from './popularity.ts';

export const SEARCH_FIRST_MAX = 100;
export const QUERY_MAX = 100;

const bad = (field: string, zh: string, en: string, rule: string) => new AppError('BAD_INPUT', `${zh} / ${en}`, { [field]: rule });

export function boundedFirst(first: number | null | undefined, dflt: number, max: number, field = 'first'): number {
  const n = first ?? dflt;
  if (!Number.isInteger(n) || n < 1 || n > max) throw bad(field, `${field} 须在 1 到 ${max} 之间`, `${field} must be between 1 and ${max}`, `1..${max}`);
  return n;
}

function checkFilter(f: SearchFilter | null | undefined): SearchFilter {
  const filter = f ?? {};
  if (filter.typeCode && !isItemTypeCode(filter.typeCode)) throw bad('filter.typeCode', '事项类型代码无效', 'unknown item type code', '01-10 or 20');
  if (filter.theme && !isTheme(filter.theme)) throw bad('filter.theme', '主题代码无效', 'unknown theme code', 'P01…, C01…');
  if (filter.object && !isServiceObject(filter.object)) throw bad('filter.object', '服务对象代码无效', 'unknown service object code', '1-6');
  if (filter.level !== null && filter.level !== undefined && (!Number.isInteger(filter.level) || filter.level < 1 || filter.level > 7)) {
    throw bad('filter.level', '层级须在 1 到 7 之间', 'level must be between 1 and 7', '1..7');
  }
  const d = filter.minOnlineDepth;
  if (d !== null && d !== undefined && (!Number.isInteger(d) || d < 1 || d > 5)) throw bad('filter.minOnlineDepth', '网办深度须在 1 到 5 之间', 'online depth must be between 1 and 5', '1..5');
  return filter;
}

interface Edge { cursor: string; itemId: string; highlight: ReturnType<typeof highlight>; score: number }
interface Result { edges: Edge[]; pageInfo: { hasNextPage: boolean; endCursor: string | null }; totalCount: number; totalCountExact: boolean }

export async function search(db: Queryable, queryText: string | null | undefined, filter: SearchFilter | null | undefined, first: number | null | undefined, after: string | null | undefined, tuning: SearchTuning = DEFAULT_TUNING): Promise<Result> {
  const text = queryText ?? '';
  if (text.length > QUERY_MAX) throw bad('query', '搜索词过长', `query longer than ${QUERY_MAX} characters`, `at most ${QUERY_MAX} characters`);
  const n = boundedFirst(first, 20, SEARCH_FIRST_MAX);
  const f = checkFilter(filter);
  const parsed: ParsedQuery = parseQuery(text);
  // Only punctuation: nothing to look for, and browsing everything would be a surprising answer.
  if (parsed.terms.length === 0 && text.trim() !== '') return { edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0, totalCountExact: true };
  const page = await runSearch(db, parsed, f, n, after ?? null, tuning);
  const edges = page.rows.map((r) => ({ cursor: page.cursor(r), itemId: r.item_id, highlight: highlight(r.name, parsed), score: r.score }));
  return { edges, pageInfo: { hasNextPage: page.hasNext, endCursor: page.resume ?? edges[edges.length - 1]?.cursor ?? null }, totalCount: page.total, totalCountExact: page.totalExact };
}

/** The person behind a request (the company when acting for one), as the digest subscriptions and co-occurrence use. */
function personDigest(ctx: ItemContext): string {
  const c = ctx.caller;
  if (c.kind !== 'person') throw new AppError('UNAUTHENTICATED', '请先登录 / log in first');
  return applicantDigest(c.actingFor ? c.actingFor.company : c.sub);
}

async function existingItem(ctx: ItemContext, itemId: string): Promise<Item> {
  const i = typeof itemId === 'string' && /^[0-9a-f-]{36}$/i.test(itemId) ? await ctx.loaders.item(itemId.toLowerCase()) : null;
  if (!i) throw new AppError('NOT_FOUND', '事项不存在 / no such item');
  return i;
}

interface ThemeNode { code: ThemeCode; object: ServiceObjectCode | null }

const themeNode = (code: ThemeCode, object: ServiceObjectCode | null): ThemeNode => ({ code, object });

export function searchResolvers(db: Queryable, clock: Clock, tuning: SearchTuning = DEFAULT_TUNING) {
  return {
    Query: {
      searchItems: (_: unknown, a: { query?: string | null; filter?: SearchFilter | null; first?: number | null; after?: string | null }) =>
        search(db, a.query, a.filter, a.first, a.after, tuning),
      hotItems: async (_: unknown, a: { first?: number | null; days?: number | null }) => {
        const n = boundedFirst(a.first, 10, 50);
        const days = boundedFirst(a.days, 30, 366, 'days');
        return (await hotItems(db, clock.now(), days, n)).map((r) => ({ itemId: r.item_id, cases: r.cases }));
      },
      serviceObjects: () => (Object.keys(SERVICE_OBJECTS) as ServiceObjectCode[]).map((code) => ({ code })),
      themes: (_: unknown, a: { object?: string | null }) => {
        if (a.object === null || a.object === undefined) return (Object.keys(THEMES) as ThemeCode[]).map((c) => themeNode(c, null));
        if (!isServiceObject(a.object)) throw bad('object', '服务对象代码无效', 'unknown service object code', '1-6');
        const o = a.object;
        return themesForObject(o).map((c) => themeNode(c, o));
      },
      mySubscriptions: async (_: unknown, _a: unknown, ctx: ItemContext) =>
        (await subscriptionsOf(db, personDigest(ctx))).map((r) => ({ itemId: r.item_id, since: new Date(r.created_at).toISOString(), changed: r.changed })),
      myItemNotifications: async (_: unknown, a: { unreadOnly?: boolean | null; first?: number | null }, ctx: ItemContext) => {
        const who = personDigest(ctx);
        const n = boundedFirst(a.first, 20, 100);
        const [rows, unread] = await Promise.all([notificationsOf(db, who, a.unreadOnly === true, n), unreadCount(db, who)]);
        return { unreadCount: unread, notifications: rows };
      },
      recommendedItems: async (_: unknown, a: { first?: number | null }, ctx: ItemContext) => {
        const n = boundedFirst(a.first, 10, 50);
        const c = ctx.caller;
        const applicant = c.kind === 'person' ? applicantDigest(c.actingFor ? c.actingFor.company : c.sub) : null;
        const object = c.kind === 'person' && c.actingFor ? '2' : '1';
        const ids = await recommendedItems(db, applicant, object, n);
        return (await Promise.all(ids.map((id) => ctx.loaders.item(id)))).filter((i): i is Item => i !== null);
      },
    },
    Mutation: {
      subscribeItem: async (_: unknown, a: { itemId: string }, ctx: ItemContext) => {
        const who = personDigest(ctx);
        const i = await existingItem(ctx, a.itemId);
        await subscribe(db, who, i.id, clock.now());
        const row = (await subscriptionsOf(db, who)).find((r) => r.item_id === i.id)!;
        return { itemId: i.id, since: new Date(row.created_at).toISOString(), changed: row.changed };
      },
      markItemNotificationsRead: async (_: unknown, a: { ids?: string[] | null }, ctx: ItemContext) => {
        const who = personDigest(ctx);
        if (a.ids && a.ids.length > 100) throw bad('ids', '一次最多 100 条', 'at most 100 ids at once', 'at most 100');
        const bads = (a.ids ?? []).filter((x) => !isUuid(x));
        if (bads.length > 0) throw bad('ids', '通知编号无效', 'not notification ids', 'UUIDs of your notifications');
        return markRead(db, who, a.ids ? a.ids.map((x) => x.toLowerCase()) : null, clock.now());
      },
      unsubscribeItem: async (_: unknown, a: { itemId: string }, ctx: ItemContext) => {
        const who = personDigest(ctx);
        const i = await existingItem(ctx, a.itemId);
        return unsubscribe(db, who, i.id);
      },
    },
    ItemNotification: {
      item: (r: NotificationRow, _: unknown, ctx: ItemContext) => ctx.loaders.item(r.item_id),
      text: (r: NotificationRow) => `您关注的事项「${r.item_name}」已更新，第 ${r.version} 版现已施行 / ${r.item_name}, an item you follow, has changed: version ${r.version} is in force`,
      createdAt: (r: NotificationRow) => new Date(r.created_at).toISOString(),
      read: (r: NotificationRow) => r.read_at !== null,
    },
    ItemSubscription: {
      item: (h: { itemId: string }, _: unknown, ctx: ItemContext) => ctx.loaders.item(h.itemId),
    },
    ItemSearchEdge: {
      node: async (e: Edge, _: unknown, ctx: ItemContext) => {
        const i = await ctx.loaders.item(e.itemId);
        if (!i) throw new AppError('INTERNAL', `indexed item ${e.itemId} missing`);
        return i;
      },
    },
    HotItem: {
      item: (h: { itemId: string }, _: unknown, ctx: ItemContext) => ctx.loaders.item(h.itemId),
    },
    RelatedItem: {
      item: (h: { itemId: string }, _: unknown, ctx: ItemContext) => ctx.loaders.item(h.itemId),
    },
    ServiceObject: {
      name: (o: { code: ServiceObjectCode }) => SERVICE_OBJECTS[o.code].zh,
      nameEn: (o: { code: ServiceObjectCode }) => SERVICE_OBJECTS[o.code].en,
      themes: (o: { code: ServiceObjectCode }) => themesForObject(o.code).map((c) => themeNode(c, o.code)),
    },
    Theme: {
      name: (t: ThemeNode) => THEMES[t.code].zh,
      nameEn: (t: ThemeNode) => THEMES[t.code].en,
      items: (t: ThemeNode, a: { first?: number | null; after?: string | null }) =>
        search(db, '', { theme: t.code, ...(t.object ? { object: t.object } : {}) }, a.first, a.after, tuning),
    },
    Item: {
      popularity: (i: Item, _: unknown, ctx: ItemContext) => ctx.loaders.popularity(i.id),
      related: async (i: Item, a: { first?: number | null }) =>
        (await relatedItems(db, i.id, boundedFirst(a.first, 5, 20))).map((r) => ({ itemId: r.item_id, cases: r.cases, order: r.order })),
    },
  };
}
