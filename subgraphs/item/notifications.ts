/**
 * Notifications of followed items (R-IT-7): when a new version of an item comes into force
 * (approved by a second person, or imported), everyone following it gets one notification,
 * written in the same transaction as the version, so a version in force always has its
 * notifications and an aborted approval has none. People read them in the graph
 * (`myItemNotifications`) and mark them read; following is kept by the same subject digest as
 * subscriptions (search/discover.ts), so notifications name no one either.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../kernel/db.ts';

export interface NotificationRow {
  id: string; item_id: string; version: number; item_name: string; created_at: Date; read_at: Date | null;
}

/** One notification per follower of `itemId` that the version `version` named `itemName` is in force. */
export async function notifyFollowers(q: Queryable, itemId: string, version: number, itemName: string, now: Date): Promise<number> {
  const { rows } = await q.query<{ subscriber: string }>('select subscriber from item.subscriptions where item_id = $1', [itemId]);
  if (rows.length === 0) return 0;
  const r = await q.query(
    `insert into item.notifications (id, subscriber, item_id, version, item_name, created_at)
     select n.id, n.subscriber, $3, $4, $5, $6 from unnest($1::uuid[], $2::text[]) as n(id, subscriber)
     on conflict (subscriber, item_id, version) do nothing`,
    [rows.map(() => randomUUID()), rows.map((x) => x.subscriber), itemId, version, itemName, now]);
  return r.rowCount;
}

export async function notificationsOf(q: Queryable, subscriber: string, unreadOnly: boolean, first: number): Promise<NotificationRow[]> {
  const { rows } = await q.query<NotificationRow>(
    `select id, item_id, version, item_name, created_at, read_at from item.notifications
     where subscriber = $1 and ($2::boolean is false or read_at is null)
     order by created_at desc, id limit $3`, [subscriber, unreadOnly, first]);
  return rows;
}

export async function unreadCount(q: Queryable, subscriber: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>('select count(*)::int as n from item.notifications where subscriber = $1 and read_at is null', [subscriber]);
  return rows[0]?.n ?? 0;
}

/** Mark the given notifications of `subscriber` read (all of them when `ids` is null); returns how many changed. */
export async function markRead(q: Queryable, subscriber: string, ids: readonly string[] | null, now: Date): Promise<number> {
  const r = await q.query(
    `update item.notifications set read_at = $3 where subscriber = $1 and read_at is null and ($2::uuid[] is null or id = any($2::uuid[]))`,
    [subscriber, ids, now]);
  return r.rowCount;
}
