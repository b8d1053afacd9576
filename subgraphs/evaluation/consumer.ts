/**
 * Consumes the `cases` stream (group `evaluation`): a `case.completed` event makes the case
 * rateable by its applicant (R-EV-4: one rating per service event, after completion). Other
 * event types are ignored. A malformed payload is logged and skipped rather than retried
 * forever: retrying cannot fix it.
 */
import { z } from 'zod';
import type { Cache } from '../../kernel/cache.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Db, Queryable } from '../../kernel/db.ts';
import { startConsumer, type DomainEvent, type Runner } from '../../kernel/events.ts';
import type { Logger } from '../../kernel/log.ts';
import { recordRateable } from './repository.ts';
import { EVALUATION_SCHEMA } from './migrations.ts';

export const CASES_STREAM = 'cases';
export const CONSUMER_GROUP = 'evaluation';
export const CASE_COMPLETED = 'case.completed';

const id = z.string().trim().min(1).max(200);

/** `case.completed` payload (event contract): { caseId, caseNumber, itemId, agencyCode, applicantId, outcomeCode, completedAt, mode?, visits?, overdue?, submittedAt? }. */
const caseCompleted = z.object({
  caseId: id,
  caseNumber: z.string().max(200).nullish(),
  itemId: id,
  agencyCode: id,
  applicantId: id,
  outcomeCode: z.union([z.string().min(1).max(20), z.number().int()]).transform(String),
  completedAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'a date-time'),
  // For the rankings (R-EV-5); absent in events written before they were added.
  mode: z.string().max(40).optional(),
  visits: z.number().int().min(0).max(1000).optional(),
  overdue: z.boolean().optional(),
  submittedAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'a date-time').optional(),
});

/** The payload of an event of `type`, or null (logged) when it is malformed: retrying cannot fix it. */
function payloadOf<T>(event: DomainEvent, type: string, schema: z.ZodType<T>, log: Logger): T | null {
  if (event.type !== type) return null;
  const p = schema.safeParse(event.payload);
  if (p.success) return p.data;
  log.error({ eventId: event.id, issues: p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }, `malformed ${type} skipped`);
  return null;
}

export function caseEventHandler(clock: Clock, log: Logger) {
  return async (event: DomainEvent, q: Queryable): Promise<void> => {
    const c = payloadOf(event, CASE_COMPLETED, caseCompleted, log);
    if (!c) return;
    await recordRateable(q, {
      caseId: c.caseId, caseNumber: c.caseNumber ?? null, applicantId: c.applicantId, itemId: c.itemId,
      agencyCode: c.agencyCode, outcomeCode: c.outcomeCode, completedAt: new Date(c.completedAt),
      mode: c.mode ?? null, visits: c.visits ?? null, overdue: c.overdue ?? null, submittedAt: c.submittedAt ? new Date(c.submittedAt) : null,
    }, clock.now());
  };
}

export function startCaseConsumer(o: { db: Db; cache: Cache; clock: Clock; log: Logger; concurrency?: number; maxAttempts?: number }): Promise<Runner> {
  return startConsumer({
    db: o.db, cache: o.cache, schema: EVALUATION_SCHEMA, stream: CASES_STREAM, group: CONSUMER_GROUP, log: o.log,
    concurrency: o.concurrency, maxAttempts: o.maxAttempts, wants: (e) => e.type === CASE_COMPLETED,
    handle: caseEventHandler(o.clock, o.log),
  });
}

export const ITEMS_STREAM = 'items';
export const ITEM_UPSERTED = 'item.upserted';

const itemUpserted = z.object({ id, name: z.string().min(1).max(500), agencyCode: id, agencyName: z.string().max(500).optional() });

/**
 * `items` / `item.upserted` into the item replica: a consultation about the item being viewed goes
 * to the agency implementing it (R-EV-2), a complaint about an item to its agency (R-EV-1).
 */
export function itemEventHandler(clock: Clock, log: Logger) {
  return async (event: DomainEvent, q: Queryable): Promise<void> => {
    const i = payloadOf(event, ITEM_UPSERTED, itemUpserted, log);
    if (!i) return;
    await q.query(
      `insert into evaluation.item_replica (item_id, name, agency_code, agency_name, updated_at) values ($1, $2, $3, $4, $5)
       on conflict (item_id) do update set name = excluded.name, agency_code = excluded.agency_code, agency_name = excluded.agency_name, updated_at = excluded.updated_at`,
      [i.id, i.name, i.agencyCode, i.agencyName ?? i.agencyCode, clock.now()]);
  };
}

export function startItemConsumer(o: { db: Db; cache: Cache; clock: Clock; log: Logger; concurrency?: number; maxAttempts?: number }): Promise<Runner> {
  return startConsumer({
    db: o.db, cache: o.cache, schema: EVALUATION_SCHEMA, stream: ITEMS_STREAM, group: CONSUMER_GROUP, log: o.log,
    concurrency: o.concurrency, maxAttempts: o.maxAttempts, wants: (e) => e.type === ITEM_UPSERTED,
    handle: itemEventHandler(o.clock, o.log),
  });
}
