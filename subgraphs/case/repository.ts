/**
 * SQL for the `cases` schema: the item replica, cases, the step log and the case-number counter.
 * Every function takes a Queryable so callers decide the transaction.
 */
import type { Queryable } from '../../kernel/db.ts';
import { CASE_SCHEMA as S } from './migrations.ts';

export type CaseStatus = 'SUBMITTED' | 'ACCEPTED' | 'REJECTED' | 'APPROVED' | 'COMPLETED';

export interface ItemReplica {
  id: string;
  name: string;
  agencyCode: string;
  agencyName: string;
  typeCode: string | null;
  caseType: string | null;
  legalTimeLimit: number | null;
  promisedTimeLimit: number | null;
  licenceType: { code: string; name: string } | null;
}

export interface CaseRecord {
  id: string;
  caseNumber: string;
  itemId: string;
  itemName: string;
  agencyCode: string;
  agencyName: string;
  /** Snapshot of the item's licence type at submission: the rules in force when the application was made. */
  licenceType: { code: string; name: string } | null;
  applicantId: string;
  applicantName: string;
  idempotencyKey: string | null;
  status: CaseStatus;
  outcomeCode: string | null;
  version: number;
  submittedAt: string;
  updatedAt: string;
}

export interface StepRecord {
  action: string;
  status: CaseStatus;
  handlerId: string | null;
  handlerName: string | null;
  opinion: string | null;
  at: string;
}

interface CaseRow {
  id: string; case_number: string; item_id: string; item_name: string; agency_code: string; agency_name: string;
  licence_type_code: string | null; licence_type_name: string | null; applicant_id: string; applicant_name: string;
  idempotency_key: string | null; status: CaseStatus; outcome_code: string | null; version: number;
  submitted_at: Date | string; updated_at: Date | string;
}

const iso = (d: Date | string) => new Date(d).toISOString();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Case ids are UUIDs; anything else cannot exist (and must not reach a uuid cast). */
export const isUuid = (s: string) => UUID.test(s);

const CASE_COLUMNS = `id, case_number, item_id, item_name, agency_code, agency_name, licence_type_code, licence_type_name,
  applicant_id, applicant_name, idempotency_key, status, outcome_code, version, submitted_at, updated_at`;

function toCase(r: CaseRow): CaseRecord {
  return {
    id: r.id, caseNumber: r.case_number, itemId: r.item_id, itemName: r.item_name,
    agencyCode: r.agency_code, agencyName: r.agency_name,
    licenceType: r.licence_type_code ? { code: r.licence_type_code, name: r.licence_type_name ?? '' } : null,
    applicantId: r.applicant_id, applicantName: r.applicant_name, idempotencyKey: r.idempotency_key,
    status: r.status, outcomeCode: r.outcome_code, version: r.version,
    submittedAt: iso(r.submitted_at), updatedAt: iso(r.updated_at),
  };
}

// --- item replica ------------------------------------------------------------------------------

export async function upsertItem(q: Queryable, i: ItemReplica, now: Date, opts: { onlyIfAbsent?: boolean } = {}): Promise<void> {
  await q.query(
    `insert into ${S}.items (id, name, agency_code, agency_name, type_code, case_type, legal_time_limit, promised_time_limit,
       licence_type_code, licence_type_name, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     on conflict (id) do ${opts.onlyIfAbsent ? 'nothing' : `update set name = excluded.name, agency_code = excluded.agency_code,
       agency_name = excluded.agency_name, type_code = excluded.type_code, case_type = excluded.case_type,
       legal_time_limit = excluded.legal_time_limit, promised_time_limit = excluded.promised_time_limit,
       licence_type_code = excluded.licence_type_code, licence_type_name = excluded.licence_type_name, updated_at = excluded.updated_at`}`,
    [i.id, i.name, i.agencyCode, i.agencyName, i.typeCode, i.caseType, i.legalTimeLimit, i.promisedTimeLimit,
      i.licenceType?.code ?? null, i.licenceType?.name ?? null, now]);
}

export async function findItem(q: Queryable, id: string): Promise<ItemReplica | null> {
  const { rows } = await q.query<{
    id: string; name: string; agency_code: string; agency_name: string; type_code: string | null; case_type: string | null;
    legal_time_limit: number | null; promised_time_limit: number | null; licence_type_code: string | null; licence_type_name: string | null;
  }>(`select * from ${S}.items where id = $1`, [id]);
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id, name: r.name, agencyCode: r.agency_code, agencyName: r.agency_name, typeCode: r.type_code, caseType: r.case_type,
    legalTimeLimit: r.legal_time_limit, promisedTimeLimit: r.promised_time_limit,
    licenceType: r.licence_type_code ? { code: r.licence_type_code, name: r.licence_type_name ?? '' } : null,
  };
}

// --- cases -------------------------------------------------------------------------------------

export async function findCase(q: Queryable, id: string, opts: { forUpdate?: boolean } = {}): Promise<CaseRecord | null> {
  if (!isUuid(id)) return null;
  const { rows } = await q.query<CaseRow>(`select ${CASE_COLUMNS} from ${S}.cases where id = $1${opts.forUpdate ? ' for update' : ''}`, [id]);
  return rows[0] ? toCase(rows[0]) : null;
}

export async function findByIdempotencyKey(q: Queryable, applicantId: string, key: string): Promise<CaseRecord | null> {
  const { rows } = await q.query<CaseRow>(`select ${CASE_COLUMNS} from ${S}.cases where applicant_id = $1 and idempotency_key = $2`, [applicantId, key]);
  return rows[0] ? toCase(rows[0]) : null;
}

/** Lists are capped: the schema has no pagination yet, and a queue page larger than this is not a page. */
export const LIST_LIMIT = 500;

export async function listByApplicant(q: Queryable, applicantId: string): Promise<CaseRecord[]> {
  const { rows } = await q.query<CaseRow>(
    `select ${CASE_COLUMNS} from ${S}.cases where applicant_id = $1 order by submitted_at desc, case_number desc limit ${LIST_LIMIT}`, [applicantId]);
  return rows.map(toCase);
}

/** Work queue: oldest first, so the case closest to its deadline is on top. */
export async function listQueue(q: Queryable, agencyCode: string, status: CaseStatus): Promise<CaseRecord[]> {
  const { rows } = await q.query<CaseRow>(
    `select ${CASE_COLUMNS} from ${S}.cases where agency_code = $1 and status = $2 order by submitted_at, case_number limit ${LIST_LIMIT}`,
    [agencyCode, status]);
  return rows.map(toCase);
}

export interface NewCase {
  id: string;
  caseNumber: string;
  item: ItemReplica;
  applicantId: string;
  applicantName: string;
  form: Record<string, unknown> | null;
  idempotencyKey: string | null;
  now: Date;
}

export async function insertCase(q: Queryable, c: NewCase): Promise<CaseRecord> {
  const { rows } = await q.query<CaseRow>(
    `insert into ${S}.cases (id, case_number, item_id, item_name, agency_code, agency_name, licence_type_code, licence_type_name,
       applicant_id, applicant_name, form, idempotency_key, status, version, submitted_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'SUBMITTED', 1, $13, $13)
     returning ${CASE_COLUMNS}`,
    [c.id, c.caseNumber, c.item.id, c.item.name, c.item.agencyCode, c.item.agencyName, c.item.licenceType?.code ?? null,
      c.item.licenceType?.name ?? null, c.applicantId, c.applicantName, c.form === null ? null : JSON.stringify(c.form),
      c.idempotencyKey, c.now]);
  return toCase(rows[0]!);
}

/**
 * Optimistic concurrency: the change applies only to the version the checks saw. Returns null
 * when another writer got there first (0 rows), which the caller reports as CONFLICT.
 */
export async function updateStatus(q: Queryable, id: string, expectedVersion: number, status: CaseStatus, outcomeCode: string | null, now: Date): Promise<CaseRecord | null> {
  const { rows } = await q.query<CaseRow>(
    `update ${S}.cases set status = $3, outcome_code = coalesce($4, outcome_code), version = version + 1, updated_at = $5
     where id = $1 and version = $2 returning ${CASE_COLUMNS}`,
    [id, expectedVersion, status, outcomeCode, now]);
  return rows[0] ? toCase(rows[0]) : null;
}

/** Next daily number for a prefix (region + date); the row lock serialises concurrent submits. */
export async function nextCaseSequence(q: Queryable, prefix: string): Promise<number> {
  const { rows } = await q.query<{ last_value: number }>(
    `insert into ${S}.case_number_sequences (prefix, last_value) values ($1, 1)
     on conflict (prefix) do update set last_value = case_number_sequences.last_value + 1 returning last_value`, [prefix]);
  return Number(rows[0]!.last_value);
}

// --- step log (R-CA-11) ------------------------------------------------------------------------

export async function appendStep(q: Queryable, caseId: string, s: Omit<StepRecord, 'at'> & { at: Date }): Promise<void> {
  await q.query(
    `insert into ${S}.case_steps (case_id, action, status, handler_id, handler_name, opinion, at) values ($1, $2, $3, $4, $5, $6, $7)`,
    [caseId, s.action, s.status, s.handlerId, s.handlerName, s.opinion, s.at]);
}

export async function listSteps(q: Queryable, caseId: string): Promise<StepRecord[]> {
  const { rows } = await q.query<{ action: string; status: CaseStatus; handler_id: string | null; handler_name: string | null; opinion: string | null; at: Date | string }>(
    `select action, status, handler_id, handler_name, opinion, at from ${S}.case_steps where case_id = $1 order by id`, [caseId]);
  return rows.map((r) => ({ action: r.action, status: r.status, handlerId: r.handler_id, handlerName: r.handler_name, opinion: r.opinion, at: iso(r.at) }));
}

// --- licences issued for a case ----------------------------------------------------------------

export async function recordLicence(q: Queryable, caseId: string, licenceId: string, identifier: string | null, issuedAt: Date | null): Promise<void> {
  await q.query(
    `insert into ${S}.case_licences (case_id, licence_id, identifier, issued_at) values ($1, $2, $3, $4) on conflict do nothing`,
    [caseId, licenceId, identifier, issuedAt]);
}
