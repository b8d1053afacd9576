/**
 * Popularity and co-occurrence from case events (R-IT-7): the item service consumes
 * `case.completed` from the `cases` stream (consumer group `item`). Each completed case adds one
 * to its item's popularity (which ranks search results), to the item's count for that day (the
 * hot list counts a recent window), and records that its applicant did the item (for "usually
 * done before/after" recommendations). Applicants are kept only as a SHA-256 digest of their
 * subject id: enough to relate two cases of one person, not to name anyone.
 *
 * The consumer's ledger (processed_events) commits with these writes, so a redelivered event
 * counts once.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../../../kernel/db.ts';
import type { DomainEvent } from '../../../kernel/events.ts';
import type { Logger } from '../../../kernel/log.ts';
import { isUuid } from '../model.ts';

export const CASES_STREAM = 'cases';
export const CASE_COMPLETED = 'case.completed';
export const ITEM_CONSUMER_GROUP = 'item';

export const applicantDigest = (applicantId: string): string => createHash('sha256').update(`yiwang-applicant:${applicantId}`).digest('base64url');

export async function handleCaseEvent(e: DomainEvent, q: Queryable, log: Logger): Promise<void> {
  if (e.type !== CASE_COMPLETED) return;
  const p = e.payload as { itemId?: unknown; applicantId?: unknown; completedAt?: unknown };
  if (typeof p.itemId !== 'string' || !isUuid(p.itemId)) {
    log.warn({ eventId: e.id }, 'case.completed without a valid itemId; skipped');
    return;
  }
  const itemId = p.itemId.toLowerCase();
  const at = typeof p.completedAt === 'string' && !Number.isNaN(Date.parse(p.completedAt)) ? new Date(p.completedAt) : new Date(e.occurredAt || Date.now());
  await q.query('update item.search_docs set popularity = popularity + 1 where item_id = $1', [itemId]);
  await q.query(
    `insert into item.case_stats (item_id, day, completed) values ($1, (($2::timestamptz at time zone 'UTC') + interval '8 hours')::date, 1)
     on conflict (item_id, day) do update set completed = case_stats.completed + 1`, [itemId, at]);
  if (typeof p.applicantId === 'string' && p.applicantId) {
    await q.query(
      `insert into item.applicant_items (applicant, item_id, first_at) values ($1, $2, $3)
       on conflict (applicant, item_id) do update set first_at = least(applicant_items.first_at, excluded.first_at)`,
      [applicantDigest(p.applicantId), itemId, at]);
  }
}
