/**
 * Complaints (投诉, R-EV-1), consultations (咨询, R-EV-2) and suggestions (建议, R-EV-3).
 *
 * - A person submits; the author's name comes from the login (real name), never from the input.
 * - It goes to one agency: the one named, or the agency of the item (from the item replica), or
 *   for a suggestion with neither, the platform operator (EVALUATION_OPERATOR_AGENCY).
 * - The answer is due within working days (per kind); a late answer, or none, creates one
 *   accountability record (supervision.ts) and counts against the agency in the rankings.
 * - A complaint may be dispatched on to the agency concerned by the decider of the agency
 *   holding it; the clock keeps running from the submission.
 * - Answering is compare-and-set on (status OPEN, version): two staff answering at once get one
 *   answer and one CONFLICT, never two answers.
 * - A retried submission with the same idempotency key returns the first one.
 */
import { requiredText } from './text.ts';
import { isUuid } from '../../kernel/ids.ts';
import { randomUUID } from 'node:crypto';
import type { WorkingCalendar } from '../../kernel/calendar.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Db, Queryable } from '../../kernel/db.ts';
import { pgCode } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import { requirePerson, type Caller } from '../../kernel/internal-auth.ts';
import { maskName, maskText } from './masking.ts';

export type FeedbackKind = 'COMPLAINT' | 'CONSULTATION' | 'SUGGESTION';
export type FeedbackStatus = 'OPEN' | 'ANSWERED';
export const TOPICS = ['ATTITUDE', 'EFFICIENCY', 'POLICY', 'INTEGRITY', 'PLATFORM', 'OTHER'] as const;
export const TEXT_MAX = 2000;
const URL_MAX = 500;
const KEY_MAX = 100;

export interface FeedbackPolicy {
  /** Working days to answer, per kind. */
  days: Record<FeedbackKind, number>;
  /** Credit code of the platform operator: suggestions about no agency or item go there. */
  operatorAgency: string | undefined;
}

export interface FeedbackRecord {
  id: string;
  kind: FeedbackKind;
  authorId: string;
  authorName: string;
  agencyCode: string;
  itemId: string | null;
  topic: string | null;
  content: string;
  pageUrl: string | null;
  public: boolean;
  status: FeedbackStatus;
  submittedAt: Date;
  dueAt: Date;
  answer: string | null;
  answeredByName: string | null;
  answeredAt: Date | null;
  version: number;
}

export interface FeedbackStepRecord { action: string; agencyCode: string; actorName: string | null; note: string | null; at: Date }

const COLUMNS = `id, kind, author_id, author_name, agency_code, item_id, topic, content, page_url, public, status,
  submitted_at, due_at, answer, answered_by_name, answered_at, version`;

interface Row {
  id: string; kind: FeedbackKind; author_id: string; author_name: string; agency_code: string; item_id: string | null;
  topic: string | null; content: string; page_url: string | null; public: boolean; status: FeedbackStatus;
  submitted_at: Date | string; due_at: Date | string; answer: string | null; answered_by_name: string | null;
  answered_at: Date | string | null; version: number;
}

const toRecord = (r: Row): FeedbackRecord => ({
  id: r.id, kind: r.kind, authorId: r.author_id, authorName: r.author_name, agencyCode: r.agency_code, itemId: r.item_id,
  topic: r.topic, content: r.content, pageUrl: r.page_url, public: r.public, status: r.status,
  submittedAt: new Date(r.submitted_at), dueAt: new Date(r.due_at), answer: r.answer, answeredByName: r.answered_by_name,
  answeredAt: r.answered_at === null ? null : new Date(r.answered_at), version: r.version,
});


function optionalKey(v: unknown): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || v.length > KEY_MAX) throw new AppError('BAD_INPUT', 'idempotencyKey too long', { idempotencyKey: `at most ${KEY_MAX} characters` });
  return v;
}

function pageUrl(v: unknown): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || v.length > URL_MAX) throw new AppError('BAD_INPUT', 'pageUrl too long', { pageUrl: `at most ${URL_MAX} characters` });
  // A path of ours or an http(s) address; anything else (javascript:, data:) is refused.
  if (!v.startsWith('/') && !/^https?:\/\//i.test(v)) throw new AppError('BAD_INPUT', 'pageUrl must be a path or an http(s) address', { pageUrl: 'path or http(s) URL' });
  return v;
}

/** Which agency receives it: the agency named (known from the items), or the item's agency. */
async function route(q: Queryable, agencyCode: unknown, itemId: unknown, fallback: string | undefined): Promise<{ agencyCode: string; itemId: string | null }> {
  const item = typeof itemId === 'string' && itemId ? itemId : null;
  const agency = typeof agencyCode === 'string' && agencyCode ? agencyCode : null;
  if (item) {
    const { rows } = await q.query<{ agency_code: string }>('select agency_code from evaluation.item_replica where item_id = $1', [item]);
    if (!rows[0]) throw new AppError('FEEDBACK_TARGET_UNKNOWN', '事项不存在 / no such item', { itemId: 'unknown item' });
    if (agency && agency !== rows[0].agency_code) {
      throw new AppError('BAD_INPUT', '事项不属于该部门 / the item is not implemented by that agency', { agencyCode: 'not the item\'s agency' });
    }
    return { agencyCode: rows[0].agency_code, itemId: item };
  }
  if (agency) {
    const { rows } = await q.query('select 1 from evaluation.item_replica where agency_code = $1 limit 1', [agency]);
    if (!rows[0] && agency !== fallback) throw new AppError('FEEDBACK_TARGET_UNKNOWN', '部门不存在 / no such agency', { agencyCode: 'unknown agency' });
    return { agencyCode: agency, itemId: null };
  }
  if (fallback) return { agencyCode: fallback, itemId: null };
  throw new AppError('BAD_INPUT', '请选择部门或事项 / choose an agency or an item', { agencyCode: 'required (or itemId)' });
}

export interface SubmitInput {
  agencyCode?: unknown; itemId?: unknown; topic?: unknown; content?: unknown; pageUrl?: unknown; public?: unknown; idempotencyKey?: unknown;
}

export async function submitFeedback(
  db: Db, clock: Clock, calendar: WorkingCalendar, policy: FeedbackPolicy, caller: Caller, kind: FeedbackKind, input: SubmitInput,
): Promise<FeedbackRecord> {
  const person = requirePerson(caller);
  if (person.actingFor) throw new AppError('FORBIDDEN', '投诉、咨询和建议以本人名义提交 / feedback is given in one\'s own name');
  const content = requiredText('content', input.content, TEXT_MAX);
  const topic = kind === 'COMPLAINT' ? (TOPICS as readonly string[]).includes(String(input.topic)) ? String(input.topic) : null : null;
  if (kind === 'COMPLAINT' && !topic) throw new AppError('BAD_INPUT', '请选择投诉类别 / choose a topic', { topic: TOPICS.join('|') });
  const isPublic = typeof input.public === 'boolean' ? input.public : kind === 'SUGGESTION';
  const key = optionalKey(input.idempotencyKey);
  const url = kind === 'SUGGESTION' ? pageUrl(input.pageUrl) : null;
  const now = clock.now();
  const prior = async (q: Queryable) => {
    if (!key) return null;
    const { rows } = await q.query<Row>(`select ${COLUMNS} from evaluation.feedback where author_id = $1 and idempotency_key = $2`, [person.sub, key]);
    return rows[0] ? sameSubmission(toRecord(rows[0]), kind, content) : null;
  };
  try {
    return await db.tx(async (q) => {
      const earlier = await prior(q);
      if (earlier) return earlier;
      const target = await route(q, input.agencyCode, input.itemId, kind === 'SUGGESTION' ? policy.operatorAgency : undefined);
      const id = randomUUID();
      const due = calendar.addWorkingDays(now, policy.days[kind]);
      const { rows } = await q.query<Row>(
        `insert into evaluation.feedback (id, kind, author_id, author_name, author_acr, idempotency_key, agency_code, item_id, topic, content, page_url, public, status, submitted_at, due_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'OPEN', $13, $14) returning ${COLUMNS}`,
        [id, kind, person.sub, person.name, person.acr ?? null, key, target.agencyCode, target.itemId, topic, content, url, isPublic, now, due]);
      await step(q, id, 'submit', target.agencyCode, person.sub, person.name, null, now);
      return toRecord(rows[0]!);
    });
  } catch (e) {
    // A concurrent retry with the same key won the insert: answer with its feedback.
    if (key && pgCode(e) === '23505') {
      const earlier = await prior(db);
      if (earlier) return earlier;
    }
    throw e;
  }
}

function sameSubmission(prior: FeedbackRecord, kind: FeedbackKind, content: string): FeedbackRecord {
  if (prior.kind !== kind || prior.content !== content) {
    throw new AppError('BAD_INPUT', '该幂等键已用于其他内容 / this idempotency key was used for other feedback', { idempotencyKey: 'reused' });
  }
  return prior;
}

async function step(q: Queryable, id: string, action: string, agency: string, actorId: string | null, actorName: string | null, note: string | null, at: Date): Promise<void> {
  await q.query(
    'insert into evaluation.feedback_steps (feedback_id, action, agency_code, actor_id, actor_name, note, at) values ($1, $2, $3, $4, $5, $6, $7)',
    [id, action, agency, actorId, actorName, note, at]);
}

/** Staff of the agency holding it; complaints need the decider role (the person answerable for them). */
function requireHandler(caller: Caller, f: FeedbackRecord): Extract<Caller, { kind: 'staff' }> {
  if (caller.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', '请先登录 / please log in');
  if (caller.kind !== 'staff' || caller.agency !== f.agencyCode) throw new AppError('FEEDBACK_NOT_FOUND', '没有这条记录 / no such feedback');
  if (f.kind === 'COMPLAINT' && !caller.roles.includes('decider')) throw new AppError('ROLE_REQUIRED', `this action needs the decider role in agency ${f.agencyCode}`);
  return caller;
}

async function lockFeedback(q: Queryable, id: string): Promise<FeedbackRecord> {
  if (!isUuid(id)) throw new AppError('FEEDBACK_NOT_FOUND', '没有这条记录 / no such feedback');
  const { rows } = await q.query<Row>(`select ${COLUMNS} from evaluation.feedback where id = $1 for update`, [id]);
  if (!rows[0]) throw new AppError('FEEDBACK_NOT_FOUND', '没有这条记录 / no such feedback');
  return toRecord(rows[0]);
}

function expectOpen(f: FeedbackRecord, version: number | null | undefined): void {
  if (f.status !== 'OPEN') throw new AppError('FEEDBACK_ANSWERED', '已答复 / already answered');
  if (version !== undefined && version !== null && version !== f.version) throw new AppError('CONFLICT', '记录已变更，请刷新 / changed meanwhile; reload');
}

export async function answerFeedback(db: Db, clock: Clock, caller: Caller, id: string, answer: unknown, version?: number | null): Promise<FeedbackRecord> {
  const a = requiredText('answer', answer, TEXT_MAX);
  const now = clock.now();
  return db.tx(async (q) => {
    const f = await lockFeedback(q, id);
    const staff = requireHandler(caller, f);
    expectOpen(f, version);
    const { rows } = await q.query<Row>(
      `update evaluation.feedback set status = 'ANSWERED', answer = $2, answered_by_id = $3, answered_by_name = $4, answered_at = $5, version = version + 1
       where id = $1 and status = 'OPEN' returning ${COLUMNS}`, [f.id, a, staff.sub, staff.name, now]);
    await step(q, f.id, 'answer', f.agencyCode, staff.sub, staff.name, null, now);
    if (now > f.dueAt) await recordLate(q, f, now);
    return toRecord(rows[0]!);
  });
}

/** An answer given after the deadline is late even if no scan ran in between. */
async function recordLate(q: Queryable, f: FeedbackRecord, now: Date): Promise<void> {
  await q.query(
    `insert into evaluation.accountability (kind, subject_id, agency_code, due_at, at) values ($1, $2, $3, $4, $5) on conflict do nothing`,
    [f.kind, f.id, f.agencyCode, f.dueAt, now]);
}

export async function dispatchComplaint(db: Db, clock: Clock, caller: Caller, id: string, agencyCode: unknown, note: unknown, version?: number | null): Promise<FeedbackRecord> {
  const n = requiredText('note', note, 500);
  const now = clock.now();
  return db.tx(async (q) => {
    const f = await lockFeedback(q, id);
    const staff = requireHandler(caller, f);
    if (f.kind !== 'COMPLAINT') throw new AppError('BAD_INPUT', '只有投诉可以转办 / only complaints are dispatched', { id: 'not a complaint' });
    expectOpen(f, version);
    const target = await route(q, agencyCode, null, undefined);
    if (target.agencyCode === f.agencyCode) throw new AppError('BAD_INPUT', '已在本部门 / already with this agency', { agencyCode: 'the current agency' });
    const { rows } = await q.query<Row>(
      `update evaluation.feedback set agency_code = $2, version = version + 1 where id = $1 and status = 'OPEN' returning ${COLUMNS}`, [f.id, target.agencyCode]);
    await step(q, f.id, 'dispatch', target.agencyCode, staff.sub, staff.name, n, now);
    return toRecord(rows[0]!);
  });
}


export async function feedbackById(q: Queryable, id: string): Promise<FeedbackRecord | null> {
  if (!isUuid(id)) return null;
  const { rows } = await q.query<Row>(`select ${COLUMNS} from evaluation.feedback where id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function stepsOf(q: Queryable, id: string): Promise<FeedbackStepRecord[]> {
  const { rows } = await q.query<{ action: string; agency_code: string; actor_name: string | null; note: string | null; at: Date | string }>(
    'select action, agency_code, actor_name, note, at from evaluation.feedback_steps where feedback_id = $1 order by id', [id]);
  return rows.map((r) => ({ action: r.action, agencyCode: r.agency_code, actorName: r.actor_name, note: r.note, at: new Date(r.at) }));
}

export async function isLate(q: Queryable, f: FeedbackRecord): Promise<boolean> {
  const { rows } = await q.query('select 1 from evaluation.accountability where kind = $1 and subject_id = $2', [f.kind, f.id]);
  return rows.length > 0;
}

/** Who sees what of a feedback: everything, or the published view, or nothing. */
export type View = 'full' | 'public' | null;

export function viewOf(caller: Caller, f: FeedbackRecord): View {
  if (caller.kind === 'person' && caller.sub === f.authorId) return 'full';
  if (caller.kind === 'staff' && caller.agency === f.agencyCode) return 'full';
  if (f.public && f.status === 'ANSWERED') return 'public';
  return null;
}

/** The published form: the author's name masked (suggestions: none), personal data in the texts hidden. */
export function published(f: FeedbackRecord): Omit<FeedbackRecord, 'authorName'> & { authorName: string | null } {
  const names = [f.authorName];
  return {
    ...f,
    authorId: '',
    authorName: f.kind === 'SUGGESTION' ? null : maskName(f.authorName),
    content: maskText(f.content, names),
    answer: f.answer === null ? null : maskText(f.answer, names),
    answeredByName: null,
  };
}

// ---- pages (keyset cursors: opaque, base64url of "<iso time>|<id>") ----

export interface Page { nodes: FeedbackRecord[]; endCursor: string | null; hasNextPage: boolean }

const encodeCursor = (t: Date, id: string) => Buffer.from(`${t.toISOString()}|${id}`).toString('base64url');
function decodeCursor(c: string | null | undefined): { t: Date; id: string } | null {
  if (!c) return null;
  const [t, id] = Buffer.from(c, 'base64url').toString('utf8').split('|');
  if (!t || !id || Number.isNaN(Date.parse(t)) || !isUuid(id)) throw new AppError('BAD_INPUT', 'bad cursor', { after: 'a cursor from endCursor' });
  return { t: new Date(t), id };
}

export function pageSize(first: unknown): number {
  const n = typeof first === 'number' ? first : 20;
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new AppError('BAD_INPUT', 'first must be 1..100', { first: '1..100' });
  return n;
}

/**
 * One page of feedback. `order` 'desc' pages newest first by submission (own and public lists use
 * the answer time for public), 'asc' oldest first (work queues).
 */
export async function listFeedback(q: Queryable, o: {
  where: string[]; params: unknown[]; first: number; after?: string | null; order: 'asc' | 'desc'; timeColumn?: 'submitted_at' | 'answered_at';
}): Promise<Page> {
  const col = o.timeColumn ?? 'submitted_at';
  const cur = decodeCursor(o.after);
  const params = [...o.params];
  const where = [...o.where];
  if (cur) {
    params.push(cur.t, cur.id);
    where.push(`(${col}, id) ${o.order === 'asc' ? '>' : '<'} ($${params.length - 1}, $${params.length}::uuid)`);
  }
  params.push(o.first + 1);
  const { rows } = await q.query<Row>(
    `select ${COLUMNS} from evaluation.feedback where ${where.join(' and ') || 'true'}
     order by ${col} ${o.order}, id ${o.order} limit $${params.length}`, params);
  const nodes = rows.slice(0, o.first).map(toRecord);
  const last = nodes.at(-1);
  const lastTime = last ? (col === 'answered_at' ? last.answeredAt! : last.submittedAt) : null;
  return { nodes, hasNextPage: rows.length > o.first, endCursor: last && lastTime ? encodeCursor(lastTime, last.id) : null };
}
