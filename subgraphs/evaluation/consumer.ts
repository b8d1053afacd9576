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

/** `case.completed` payload (event contract): { caseId, caseNumber, itemId, agencyCode, applicantId, outcomeCode, completedAt }. */
const caseCompleted = z.object({
  caseId: id,
  caseNumber: z.string().max(200).nullish(),
  itemId: id,
  agencyCode: id,
  applicantId: id,
  outcomeCode: z.union([z.string().min(1).max(20), z.number().int()]).transform(String),
  completedAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'a date-time'),
});

export function caseEventHandler(clock: Clock, log: Logger) {
  return async (event: DomainEvent, q: Queryable): Promise<void> => {
    if (event.type !== CASE_COMPLETED) return;
    const p = caseCompleted.safeParse(event.payload);
    if (!p.success) {
      log.error({ eventId: event.id, issues: p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }, 'malformed case.completed skipped');
      return;
    }
    const c = p.data;
    await recordRateable(q, {
      caseId: c.caseId, caseNumber: c.caseNumber ?? null, applicantId: c.applicantId, itemId: c.itemId,
      agencyCode: c.agencyCode, outcomeCode: c.outcomeCode, completedAt: new Date(c.completedAt),
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
