/**
 * The case service's side of the event contracts (streams and payloads shared by every service):
 *
 * - consumes `items` / `item.upserted` into the local item replica;
 * - produces `cases` / `case.approved` (only when the item has a licence type) and `case.completed`;
 * - consumes `licences` / `licence.issued` to complete an approved case.
 *
 * Payload shapes are exact: other services parse them.
 */
import type { Queryable } from '../../kernel/db.ts';
import { enqueueEvent } from '../../kernel/events.ts';
import { CASE_SCHEMA } from './migrations.ts';
import type { CaseRecord, ItemReplica, ReplicaMaterial } from './repository.ts';

export const CASES_STREAM = 'cases';
export const ITEMS_STREAM = 'items';
export const LICENCES_STREAM = 'licences';
export const CONSUMER_GROUP = 'case';

export interface CaseApprovedPayload {
  caseId: string; caseNumber: string; itemId: string; itemName: string; agencyCode: string; agencyName: string;
  applicantId: string; applicantName: string; licenceType: { code: string; name: string }; approvedAt: string;
}

export interface CaseCompletedPayload {
  caseId: string; caseNumber: string; itemId: string; agencyCode: string; applicantId: string; outcomeCode: string; completedAt: string;
  /** For the applicant's notice (R-CA-3): the reason of a refusal or denial; consumers may ignore it. */
  reason?: string | null;
  /**
   * For the agency rankings (R-EV-5): how the application was made (ONLINE counts as handled
   * online), the applicant's visits to the hall, whether any legal clock of the case lapsed
   * (an accountability record exists, R-CA-8) and when it was submitted. Consumers may ignore them.
   */
  mode?: string;
  visits?: number;
  overdue?: boolean;
  submittedAt?: string;
}

export interface LicenceIssuedPayload {
  licenceId: string; identifier: string; caseId: string; holderId: string; issuedAt: string;
}

/**
 * `case.accepted` and `case.supplementRequested` exist for the applicant's notices (R-CA-3; the
 * rejected and completed notices come from `case.completed`, outcome 6 meaning not accepted).
 */
export interface CaseNoticePayload {
  caseId: string; caseNumber: string; itemName: string; agencyName: string; applicantId: string;
  missingMaterials?: string[]; at: string;
}

/** What the step that changed the status was, for the events that carry it. */
export interface StepContext { action: string; opinion: string | null; details: Record<string, unknown> }

/** Announce what a committed state means for others; runs inside the state change's transaction. */
export async function enqueueCaseEvents(q: Queryable, c: CaseRecord, now: Date, step?: StepContext): Promise<void> {
  const notice = (): CaseNoticePayload => ({
    caseId: c.id, caseNumber: c.caseNumber, itemName: c.itemName, agencyName: c.agencyName, applicantId: c.applicantId, at: now.toISOString(),
  });
  if (step?.action === 'accept' && c.status === 'ACCEPTED') await enqueueEvent(q, CASE_SCHEMA, CASES_STREAM, 'case.accepted', { ...notice() }, now);
  if (c.status === 'SUPPLEMENT_REQUESTED') {
    await enqueueEvent(q, CASE_SCHEMA, CASES_STREAM, 'case.supplementRequested', { ...notice(), missingMaterials: c.supplementMaterials ?? [] }, now);
  }
  if (c.status === 'APPROVED' && c.licenceType) {
    const p: CaseApprovedPayload = {
      caseId: c.id, caseNumber: c.caseNumber, itemId: c.itemId, itemName: c.itemName, agencyCode: c.agencyCode,
      agencyName: c.agencyName, applicantId: c.applicantId, applicantName: c.applicantName,
      licenceType: { code: c.licenceType.code, name: c.licenceType.name }, approvedAt: now.toISOString(),
    };
    await enqueueEvent(q, CASE_SCHEMA, CASES_STREAM, 'case.approved', { ...p }, now);
  }
  if ((c.status === 'COMPLETED' || c.status === 'REJECTED') && c.outcomeCode !== null) {
    const lapsed = await q.query(`select 1 from ${CASE_SCHEMA}.case_alerts where case_id = $1 and kind = 'overdue' limit 1`, [c.id]);
    const p: CaseCompletedPayload = {
      caseId: c.id, caseNumber: c.caseNumber, itemId: c.itemId, agencyCode: c.agencyCode, applicantId: c.applicantId,
      outcomeCode: c.outcomeCode, completedAt: now.toISOString(), reason: step?.opinion ?? null,
      mode: c.mode, visits: c.visits, overdue: lapsed.rows.length > 0, submittedAt: c.submittedAt,
    };
    await enqueueEvent(q, CASE_SCHEMA, CASES_STREAM, 'case.completed', { ...p }, now);
  }
}

/** Read an `item.upserted` payload defensively: a malformed one is skipped, not retried forever. */
export function parseItemUpserted(p: Record<string, unknown>): ItemReplica | null {
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);
  const int = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : null);
  const id = str(p.id), name = str(p.name), agencyCode = str(p.agencyCode);
  if (!id || !name || !agencyCode) return null;
  const lt = p.licenceType as { code?: unknown; name?: unknown } | null | undefined;
  const ltCode = lt ? str(lt.code) : null;
  return {
    id, name, agencyCode, agencyName: str(p.agencyName) ?? agencyCode,
    typeCode: str(p.typeCode), caseType: str(p.caseType),
    legalTimeLimit: int(p.legalTimeLimit), promisedTimeLimit: int(p.promisedTimeLimit),
    licenceType: ltCode ? { code: ltCode, name: str(lt?.name) ?? '' } : null,
    materials: parseMaterials(p.materials),
  };
}

/**
 * `materials` of `item.upserted` is optional (older item services omit it): absent or not an array is null
 * (unknown); entries without a code or name are dropped rather than failing the whole item.
 */
function parseMaterials(v: unknown): ReplicaMaterial[] | null {
  if (!Array.isArray(v)) return null;
  const out: ReplicaMaterial[] = [];
  for (const m of v as Array<Record<string, unknown> | null>) {
    if (!m || typeof m !== 'object' || typeof m.code !== 'string' || !m.code || typeof m.name !== 'string' || !m.name) continue;
    out.push({
      code: m.code, name: m.name, required: m.required === true,
      replaceableByLicenceType: typeof m.replaceableByLicenceType === 'string' && m.replaceableByLicenceType ? m.replaceableByLicenceType : null,
    });
  }
  return out;
}
