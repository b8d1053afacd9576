/**
 * Event handlers of the case service. Each runs inside the transaction that records the event as
 * processed (kernel/events.ts), so a redelivered event has no second effect.
 *
 * - `item.upserted` → the local item replica (submitCase reads only this).
 * - `licence.issued` → record the licence for the case; an APPROVED case becomes COMPLETED with
 *   outcome 0 (R-CA-10), a 'complete' step by the system (R-CA-11), and `case.completed`.
 */
import type { Queryable } from '../../kernel/db.ts';
import type { DomainEvent } from '../../kernel/events.ts';
import type { Logger } from '../../kernel/log.ts';
import { parseItemUpserted, type LicenceIssuedPayload } from './events.ts';
import { findCase, recordLicence, upsertItem } from './repository.ts';
import { SYSTEM_HANDLER, applyAction, type WorkflowEnv } from './workflow/transitions.ts';
import { workflowById } from './workflow/registry.ts';

export async function handleItemEvent(e: DomainEvent, q: Queryable, now: Date, log: Logger): Promise<void> {
  if (e.type !== 'item.upserted') return;
  const item = parseItemUpserted(e.payload);
  if (!item) {
    log.warn({ eventId: e.id }, 'item.upserted without id, name or agencyCode; skipped');
    return;
  }
  await upsertItem(q, item, now);
}

export async function handleLicenceEvent(e: DomainEvent, q: Queryable, env: WorkflowEnv, now: Date, log: Logger): Promise<void> {
  if (e.type !== 'licence.issued') return;
  const p = e.payload as Partial<LicenceIssuedPayload>;
  if (typeof p.caseId !== 'string' || typeof p.licenceId !== 'string') {
    log.warn({ eventId: e.id }, 'licence.issued without caseId or licenceId; skipped');
    return;
  }
  // Locked: a concurrent staff action on the same case waits, then fails its version check.
  const c = await findCase(q, p.caseId, { forUpdate: true });
  if (!c) {
    log.warn({ eventId: e.id, caseId: p.caseId }, 'licence.issued for an unknown case; skipped');
    return;
  }
  const issuedAt = typeof p.issuedAt === 'string' && !Number.isNaN(Date.parse(p.issuedAt)) ? new Date(p.issuedAt) : null;
  await recordLicence(q, c.id, p.licenceId, typeof p.identifier === 'string' ? p.identifier : null, issuedAt);
  if (c.status !== 'APPROVED') return; // already completed (e.g. a second licence): recorded, nothing to move
  await applyAction(q, env, await workflowById(q, c.workflowId), c, 'complete', SYSTEM_HANDLER, null, {}, c.version, now);
}
