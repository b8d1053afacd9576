/**
 * Discovery beside search (R-IT-7): the hot list, items usually done before or after another
 * (co-occurrence of one applicant's completed cases), and recommendations from what a caller is
 * (a person, or a company through a delegation) and what they have already done.
 */
import type { Queryable } from '../../../kernel/db.ts';

export interface HotRow { item_id: string; cases: number }
export interface RelatedRow { item_id: string; cases: number; order: 'BEFORE' | 'AFTER' }

/** Items with the most completed cases in the `days` before `now` (China Standard Time days). */
export async function hotItems(db: Queryable, now: Date, days: number, first: number): Promise<HotRow[]> {
  const { rows } = await db.query<HotRow>(
    `select s.item_id, sum(s.completed)::int as cases from item.case_stats s
     join item.items i on i.id = s.item_id
     where s.day > (($1::timestamptz at time zone 'UTC') + interval '8 hours')::date - $2::int
     group by s.item_id order by cases desc, s.item_id limit $3`, [now, days, first]);
  return rows;
}

/**
 * Items the applicants of `itemId` also did, most shared applicants first; BEFORE when most of
 * them did the other item first, AFTER otherwise.
 */
export async function relatedItems(db: Queryable, itemId: string, first: number): Promise<RelatedRow[]> {
  const { rows } = await db.query<{ item_id: string; cases: number; before: number }>(
    `select b.item_id, count(*)::int as cases, count(*) filter (where b.first_at < a.first_at)::int as before
     from item.applicant_items a join item.applicant_items b on b.applicant = a.applicant and b.item_id <> a.item_id
     join item.items i on i.id = b.item_id
     where a.item_id = $1 group by b.item_id order by cases desc, b.item_id limit $2`, [itemId, first]);
  return rows.map((r) => ({ item_id: r.item_id, cases: r.cases, order: r.before * 2 > r.cases ? 'BEFORE' : 'AFTER' }));
}

/**
 * Recommendations for an applicant: items others usually did after those this applicant did or
 * follows (co-occurrence), then the most popular items for their kind of service object, never
 * one they already did or follow.
 */
export async function recommendedItems(db: Queryable, applicant: string | null, object: string, first: number): Promise<string[]> {
  const { rows } = await db.query<{ item_id: string }>(
    `with done as (select item_id from item.applicant_items where applicant = $1),
     followed as (select item_id from item.subscriptions where subscriber = $1),
     seeds as (select item_id from done union select item_id from followed),
     next as (
       select b.item_id, count(*) as n from seeds d
       join item.applicant_items a on a.item_id = d.item_id and a.applicant <> $1
       join item.applicant_items b on b.applicant = a.applicant and b.first_at > a.first_at
       where b.item_id not in (select item_id from seeds)
       group by b.item_id
     )
     select item_id from (
       select n.item_id, 0 as tier, n.n as weight from next n
       union all
       (select d.item_id, 1, d.popularity from item.search_docs d
        where d.objects @> array[$2::text] and d.item_id not in (select item_id from seeds)
        order by d.popularity desc, d.name collate "C", d.item_id limit $3)
     ) r group by item_id order by min(tier), max(weight) desc, item_id limit $3`,
    [applicant ?? '', object, first]);
  return rows.map((r) => r.item_id);
}

/** Follow an item (idempotent); following again marks it seen. */
export async function subscribe(db: Queryable, subscriber: string, itemId: string, now: Date): Promise<void> {
  await db.query(
    `insert into item.subscriptions (subscriber, item_id, created_at, seen_at) values ($1, $2, $3, $3)
     on conflict (subscriber, item_id) do update set seen_at = excluded.seen_at`, [subscriber, itemId, now]);
}

export async function unsubscribe(db: Queryable, subscriber: string, itemId: string): Promise<boolean> {
  return (await db.query('delete from item.subscriptions where subscriber = $1 and item_id = $2', [subscriber, itemId])).rowCount > 0;
}

export interface SubscriptionRow { item_id: string; created_at: Date; changed: boolean }

/** Followed items, those changed since last seen first. */
export async function subscriptionsOf(db: Queryable, subscriber: string): Promise<SubscriptionRow[]> {
  const { rows } = await db.query<SubscriptionRow>(
    `select s.item_id, s.created_at, i.updated_at > s.seen_at as changed from item.subscriptions s join item.items i on i.id = s.item_id
     where s.subscriber = $1 order by (i.updated_at > s.seen_at) desc, s.created_at desc, s.item_id`, [subscriber]);
  return rows;
}
