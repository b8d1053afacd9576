/**
 * SQL for the `cases` schema: the item replica, cases, the step log and the case-number counter.
 * Every function takes a Queryable so callers decide the transaction.
 */
import type { Queryable } from '../../kernel/db.ts';
import { CASE_SCHEMA as S } from './migrations.ts';

export type CaseStatus = 'SUBMITTED' | 'SUPPLEMENT_REQUESTED' | 'ACCEPTED' | 'SUSPENDED' | 'APPROVED' | 'REJECTED' | 'COMPLETED';

/** R-CA-2: how the applicant applies, and the in-person visits each mode allows at most. */
export type ApplyMode = 'ONLINE' | 'PICKUP_VERIFY' | 'PRE_REVIEW';
export const MAX_VISITS: Readonly<Record<ApplyMode, number>> = { ONLINE: 0, PICKUP_VERIFY: 1, PRE_REVIEW: 2 };

export interface Delivery { method: 'PICKUP' | 'POST'; carrier: string | null; trackingNumber: string | null; address: string | null; at: string }

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
  /**
   * The item's materials from `item.upserted` (R-LI-2); null when the event did
   * not carry them (an older item service): then no material can be replaced by a licence.
   */
  materials: ReplicaMaterial[] | null;
}

export interface ReplicaMaterial { code: string; name: string; required: boolean; replaceableByLicenceType: string | null }

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
  workflowId: string;
  /** Agencies approving in parallel besides the lead (R-CA-9). */
  coAgencies: string[];
  mode: ApplyMode;
  visits: number;
  /** The one supplement notice (R-CA-4): every missing material. */
  supplementMaterials: string[] | null;
  /** The state whose legal clock is running or paused (R-CA-8). */
  clockState: string | null;
  deadlineAt: string | null;
  pausedAt: string | null;
  warnedAt: string | null;
  /** Working days asked for and not yet approved. */
  extensionRequested: number | null;
  extensionDays: number;
  delivery: Delivery | null;
  finishedAt: string | null;
  /** The item's limits at submission (working days). */
  legalTimeLimit: number | null;
  promisedTimeLimit: number | null;
}

export interface StepRecord {
  action: string;
  status: CaseStatus;
  handlerId: string | null;
  handlerName: string | null;
  opinion: string | null;
  details: Record<string, unknown> | null;
  /** When the step began (the previous step's end; the submission's own time for the first). */
  startedAt?: string;
  at: string;
}

interface CaseRow {
  id: string; case_number: string; item_id: string; item_name: string; agency_code: string; agency_name: string;
  licence_type_code: string | null; licence_type_name: string | null; applicant_id: string; applicant_name: string;
  idempotency_key: string | null; status: CaseStatus; outcome_code: string | null; version: number;
  submitted_at: Date | string; updated_at: Date | string;
  workflow_id: string; co_agencies: string[]; mode: ApplyMode; visits: number; supplement_materials: string[] | null;
  clock_state: string | null; deadline_at: Date | string | null; paused_at: Date | string | null; warned_at: Date | string | null;
  extension_requested: number | null; extension_days: number; delivery: Delivery | null; finished_at: Date | string | null;
  legal_time_limit: number | null; promised_time_limit: number | null;
}

const iso = (d: Date | string) => new Date(d).toISOString();
const isoOrNull = (d: Date | string | null) => (d === null ? null : iso(d));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Case ids are UUIDs; anything else cannot exist (and must not reach a uuid cast). */
export const isUuid = (s: string) => UUID.test(s);

const CASE_COLUMNS = `id, case_number, item_id, item_name, agency_code, agency_name, licence_type_code, licence_type_name,
  applicant_id, applicant_name, idempotency_key, status, outcome_code, version, submitted_at, updated_at,
  workflow_id, co_agencies, mode, visits, supplement_materials, clock_state, deadline_at, paused_at, warned_at,
  extension_requested, extension_days, delivery, finished_at, legal_time_limit, promised_time_limit`;

function toCase(r: CaseRow): CaseRecord {
  return {
    id: r.id, caseNumber: r.case_number, itemId: r.item_id, itemName: r.item_name,
    agencyCode: r.agency_code, agencyName: r.agency_name,
    licenceType: r.licence_type_code ? { code: r.licence_type_code, name: r.licence_type_name ?? '' } : null,
    applicantId: r.applicant_id, applicantName: r.applicant_name, idempotencyKey: r.idempotency_key,
    status: r.status, outcomeCode: r.outcome_code, version: r.version,
    submittedAt: iso(r.submitted_at), updatedAt: iso(r.updated_at),
    workflowId: r.workflow_id, coAgencies: r.co_agencies ?? [], mode: r.mode, visits: r.visits, supplementMaterials: r.supplement_materials,
    clockState: r.clock_state, deadlineAt: isoOrNull(r.deadline_at), pausedAt: isoOrNull(r.paused_at), warnedAt: isoOrNull(r.warned_at),
    extensionRequested: r.extension_requested, extensionDays: r.extension_days, delivery: r.delivery, finishedAt: isoOrNull(r.finished_at),
    legalTimeLimit: r.legal_time_limit, promisedTimeLimit: r.promised_time_limit,
  };
}

// --- item replica ------------------------------------------------------------------------------

export async function upsertItem(q: Queryable, i: ItemReplica, now: Date, opts: { onlyIfAbsent?: boolean } = {}): Promise<void> {
  await q.query(
    `insert into ${S}.items (id, name, agency_code, agency_name, type_code, case_type, legal_time_limit, promised_time_limit,
       licence_type_code, licence_type_name, updated_at, materials)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)
     on conflict (id) do ${opts.onlyIfAbsent
    // The seed only fills what is missing: a row from before migration 103 lacks its materials.
    ? `update set materials = excluded.materials where ${S}.items.materials is null and excluded.materials is not null`
    : `update set name = excluded.name, agency_code = excluded.agency_code,
       agency_name = excluded.agency_name, type_code = excluded.type_code, case_type = excluded.case_type,
       legal_time_limit = excluded.legal_time_limit, promised_time_limit = excluded.promised_time_limit,
       licence_type_code = excluded.licence_type_code, licence_type_name = excluded.licence_type_name, updated_at = excluded.updated_at,
       materials = excluded.materials`}`,
    [i.id, i.name, i.agencyCode, i.agencyName, i.typeCode, i.caseType, i.legalTimeLimit, i.promisedTimeLimit,
      i.licenceType?.code ?? null, i.licenceType?.name ?? null, now, i.materials === null ? null : JSON.stringify(i.materials)]);
}

export async function findItem(q: Queryable, id: string): Promise<ItemReplica | null> {
  const { rows } = await q.query<{
    id: string; name: string; agency_code: string; agency_name: string; type_code: string | null; case_type: string | null;
    legal_time_limit: number | null; promised_time_limit: number | null; licence_type_code: string | null; licence_type_name: string | null;
    materials: ReplicaMaterial[] | string | null;
  }>(`select * from ${S}.items where id = $1`, [id]);
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id, name: r.name, agencyCode: r.agency_code, agencyName: r.agency_name, typeCode: r.type_code, caseType: r.case_type,
    legalTimeLimit: r.legal_time_limit, promisedTimeLimit: r.promised_time_limit,
    licenceType: r.licence_type_code ? { code: r.licence_type_code, name: r.licence_type_name ?? '' } : null,
    materials: typeof r.materials === 'string' ? JSON.parse(r.materials) as ReplicaMaterial[] : r.materials,
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

/** Cases matching a condition built by the caller from constants and its own parameters. */
export async function casesWhere(q: Queryable, where: string, params: unknown[], tail: string): Promise<CaseRecord[]> {
  const { rows } = await q.query<CaseRow>(`select ${CASE_COLUMNS} from ${S}.cases where ${where} ${tail}`, params);
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
  workflowId: string;
  coAgencies: string[];
  mode: ApplyMode;
  /** The legal clock of the initial state (R-CA-8). */
  clockState: string | null;
  deadlineAt: Date | null;
}

export async function insertCase(q: Queryable, c: NewCase): Promise<CaseRecord> {
  const { rows } = await q.query<CaseRow>(
    `insert into ${S}.cases (id, case_number, item_id, item_name, agency_code, agency_name, licence_type_code, licence_type_name,
       applicant_id, applicant_name, form, idempotency_key, status, version, submitted_at, updated_at,
       workflow_id, co_agencies, mode, clock_state, deadline_at, legal_time_limit, promised_time_limit)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'SUBMITTED', 1, $13, $13, $14, $15, $16, $17, $18, $19, $20)
     returning ${CASE_COLUMNS}`,
    [c.id, c.caseNumber, c.item.id, c.item.name, c.item.agencyCode, c.item.agencyName, c.item.licenceType?.code ?? null,
      c.item.licenceType?.name ?? null, c.applicantId, c.applicantName, c.form === null ? null : JSON.stringify(c.form),
      c.idempotencyKey, c.now, c.workflowId, c.coAgencies, c.mode, c.clockState, c.deadlineAt,
      c.item.legalTimeLimit, c.item.promisedTimeLimit]);
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

/** Columns a transition may change besides status, outcome and version. */
export interface CasePatch {
  visits?: number;
  supplementMaterials?: string[];
  clockState?: string | null;
  deadlineAt?: Date | null;
  pausedAt?: Date | null;
  warnedAt?: Date | null;
  extensionRequested?: number | null;
  extensionDays?: number;
  delivery?: Delivery;
  finishedAt?: Date;
}

const PATCH_COLUMNS: Record<keyof CasePatch, string> = {
  visits: 'visits', supplementMaterials: 'supplement_materials', clockState: 'clock_state', deadlineAt: 'deadline_at',
  pausedAt: 'paused_at', warnedAt: 'warned_at', extensionRequested: 'extension_requested', extensionDays: 'extension_days',
  delivery: 'delivery', finishedAt: 'finished_at',
};

/** updateStatus with more columns; same optimistic-concurrency contract. */
export async function updateCase(
  q: Queryable, id: string, expectedVersion: number, status: CaseStatus, outcomeCode: string | null, patch: CasePatch, now: Date,
): Promise<CaseRecord | null> {
  const sets: string[] = [];
  const params: unknown[] = [id, expectedVersion, status, outcomeCode, now];
  for (const [k, v] of Object.entries(patch) as Array<[keyof CasePatch, unknown]>) {
    if (v === undefined) continue;
    params.push(k === 'supplementMaterials' || k === 'delivery' ? JSON.stringify(v) : v);
    sets.push(`${PATCH_COLUMNS[k]} = $${params.length}`);
  }
  const { rows } = await q.query<CaseRow>(
    `update ${S}.cases set status = $3, outcome_code = coalesce($4, outcome_code), version = version + 1, updated_at = $5
       ${sets.map((x) => `, ${x}`).join('')}
     where id = $1 and version = $2 returning ${CASE_COLUMNS}`, params);
  return rows[0] ? toCase(rows[0]) : null;
}

/** Reserve the next `n` daily numbers for a prefix (region + date); returns the last one. */
export async function reserveCaseSequence(q: Queryable, prefix: string, n: number): Promise<number> {
  const { rows } = await q.query<{ last_value: number }>(
    `insert into ${S}.case_number_sequences (prefix, last_value) values ($1, $2)
     on conflict (prefix) do update set last_value = case_number_sequences.last_value + $2 returning last_value`, [prefix, n]);
  return Number(rows[0]!.last_value);
}

// --- step log (R-CA-11) ------------------------------------------------------------------------

export async function appendStep(q: Queryable, caseId: string, s: Omit<StepRecord, 'at' | 'details'> & { at: Date; details?: Record<string, unknown> | null }): Promise<void> {
  await q.query(
    `insert into ${S}.case_steps (case_id, action, status, handler_id, handler_name, opinion, at, details) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [caseId, s.action, s.status, s.handlerId, s.handlerName, s.opinion, s.at, s.details ? JSON.stringify(s.details) : null]);
}

export async function listSteps(q: Queryable, caseId: string): Promise<StepRecord[]> {
  const { rows } = await q.query<{ action: string; status: CaseStatus; handler_id: string | null; handler_name: string | null; opinion: string | null; details: Record<string, unknown> | null; at: Date | string }>(
    `select action, status, handler_id, handler_name, opinion, details, at from ${S}.case_steps where case_id = $1 order by id`, [caseId]);
  // R-CA-11 start and end time: a step starts when the previous one ended.
  return rows.map((r, i) => ({
    action: r.action, status: r.status, handlerId: r.handler_id, handlerName: r.handler_name, opinion: r.opinion, details: r.details,
    startedAt: i === 0 ? iso(r.at) : iso(rows[i - 1]!.at), at: iso(r.at),
  }));
}

// --- licences issued for a case ----------------------------------------------------------------

export async function recordLicence(q: Queryable, caseId: string, licenceId: string, identifier: string | null, issuedAt: Date | null): Promise<void> {
  await q.query(
    `insert into ${S}.case_licences (case_id, licence_id, identifier, issued_at) values ($1, $2, $3, $4) on conflict do nothing`,
    [caseId, licenceId, identifier, issuedAt]);
}
