/**
 * Live chat for consultations (在线咨询, R-EV-2), the way a service desk runs it:
 *
 * - A person opens a chat on an item's guide; it is routed to the item's agency (from the item
 *   replica) and waits in that agency's queue (WAITING).
 * - A member of that agency's staff takes it (ACTIVE; compare-and-set: two taking at once get
 *   one chat and one CHAT_TAKEN); a staff message to a waiting chat takes it too. Only the
 *   person who opened it and the staff member who took it write to it; the agency's staff read it.
 * - The first staff message is the chat's first answer: its time counts as the consultation's
 *   answer time (rankings: consultationAnswerMinutes) when the chat closes.
 * - Messages are numbered per chat (seq, the chat row serialises writers), kept append-only (the
 *   transcript), and published on the Redis channel `chat:<id>` after commit; every evaluation
 *   process streams them to its listeners (chat-stream.ts). Queue changes go on
 *   `chat-queue:<agency>`.
 * - Either side closes it. A chat in which the person wrote becomes a consultation record
 *   (evaluation.feedback, kind CONSULTATION) in the same transaction: the person's lines as the
 *   question, the staff lines as the answer, answered at the first answer; with no staff answer
 *   it stays OPEN with the consultation deadline, so the agency answers it like any other
 *   (supervision counts it late otherwise).
 */
import { randomUUID } from 'node:crypto';
import type { WorkingCalendar } from '../../kernel/calendar.ts';
import type { Cache } from '../../kernel/cache.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Db, Queryable } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import { isUuid } from '../../kernel/ids.ts';
import type { Caller } from '../../kernel/internal-auth.ts';
import type { Logger } from '../../kernel/log.ts';
import { requiredText } from './text.ts';
import { TEXT_MAX } from './feedback.ts';

export type ChatStatus = 'WAITING' | 'ACTIVE' | 'CLOSED';
export type Sender = 'CITIZEN' | 'STAFF';
export const CHAT_TEXT_MAX = 1000;

export interface ChatRecord {
  id: string; itemId: string; agencyCode: string; authorId: string; authorName: string; status: ChatStatus; openedAt: Date;
  staffId: string | null; staffName: string | null; firstAnswerAt: Date | null; closedAt: Date | null; closedBy: Sender | null;
  feedbackId: string | null; lastSeq: number;
}

export interface ChatMessage { chatId: string; seq: number; sender: Sender; senderName: string; text: string; at: Date }

/** What goes over the channels and the streams. */
export type ChatEvent =
  | { type: 'message'; message: { seq: number; sender: Sender; senderName: string; text: string; at: string } }
  | { type: 'status'; status: ChatStatus; staffName: string | null };

export const chatChannel = (id: string) => `chat:${id}`;
export const queueChannel = (agency: string) => `chat-queue:${agency}`;

const COLUMNS = `id, item_id, agency_code, author_id, author_name, status, opened_at, staff_id, staff_name, first_answer_at,
  closed_at, closed_by, feedback_id, last_seq`;

type Row = Record<string, unknown>;
const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));

function toChat(r: Row): ChatRecord {
  return {
    id: r.id as string, itemId: r.item_id as string, agencyCode: r.agency_code as string, authorId: r.author_id as string,
    authorName: r.author_name as string, status: r.status as ChatStatus, openedAt: new Date(r.opened_at as string),
    staffId: (r.staff_id as string | null) ?? null, staffName: (r.staff_name as string | null) ?? null, firstAnswerAt: date(r.first_answer_at),
    closedAt: date(r.closed_at), closedBy: (r.closed_by as Sender | null) ?? null, feedbackId: (r.feedback_id as string | null) ?? null,
    lastSeq: Number(r.last_seq),
  };
}

const toMessage = (r: Row): ChatMessage => ({
  chatId: r.chat_id as string, seq: Number(r.seq), sender: r.sender as Sender, senderName: r.sender_name as string, text: r.text as string, at: new Date(r.at as string),
});

const notFound = () => new AppError('CHAT_NOT_FOUND', '没有这个在线咨询 / no such live chat');

/** Who the caller is in a chat: its author, staff of its agency (the taker or another), or nobody. */
export type Role = { as: 'CITIZEN'; name: string } | { as: 'STAFF'; sub: string; name: string };

export function roleIn(caller: Caller, c: ChatRecord): Role | null {
  if (caller.kind === 'person' && !caller.actingFor && caller.sub === c.authorId) return { as: 'CITIZEN', name: caller.name };
  if (caller.kind === 'staff' && caller.agency === c.agencyCode) return { as: 'STAFF', sub: caller.sub, name: caller.name };
  return null;
}

export async function chatById(q: Queryable, id: string, lock = false): Promise<ChatRecord | null> {
  if (!isUuid(id)) return null;
  const { rows } = await q.query(`select ${COLUMNS} from evaluation.chats where id = $1${lock ? ' for update' : ''}`, [id.toLowerCase()]);
  return rows[0] ? toChat(rows[0]) : null;
}

/** The chat if the caller may see it (its author or its agency's staff), else CHAT_NOT_FOUND. */
export async function visibleChat(q: Queryable, caller: Caller, id: string, lock = false): Promise<{ chat: ChatRecord; role: Role }> {
  if (caller.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', '请先登录 / please log in');
  const chat = await chatById(q, id, lock);
  const role = chat ? roleIn(caller, chat) : null;
  if (!chat || !role) throw notFound();
  return { chat, role };
}

export async function messagesOf(q: Queryable, chatId: string, afterSeq = 0, limit = 500): Promise<ChatMessage[]> {
  const { rows } = await q.query('select chat_id, seq, sender, sender_name, text, at from evaluation.chat_messages where chat_id = $1 and seq > $2 order by seq limit $3',
    [chatId, afterSeq, limit]);
  return rows.map(toMessage);
}

export interface ChatDeps { db: Db; cache: Cache; clock: Clock; log: Logger; calendar: WorkingCalendar; consultationDays: number }

/** Publish after commit; a lost publish costs liveness only (listeners catch up from the transcript on reconnect). */
async function announce(d: ChatDeps, channel: string, e: ChatEvent | { type: 'queue' }): Promise<void> {
  try {
    await d.cache.publish(channel, JSON.stringify(e));
  } catch (err) {
    d.log.warn({ err, channel }, 'chat: publish failed; listeners catch up on reconnect');
  }
}

async function addMessage(q: Queryable, chat: ChatRecord, sender: Sender, name: string, text: string, at: Date): Promise<ChatMessage> {
  const { rows } = await q.query<{ last_seq: number }>('update evaluation.chats set last_seq = last_seq + 1 where id = $1 returning last_seq', [chat.id]);
  const seq = Number(rows[0]!.last_seq);
  await q.query('insert into evaluation.chat_messages (chat_id, seq, sender, sender_name, text, at) values ($1, $2, $3, $4, $5, $6)',
    [chat.id, seq, sender, name, text, at]);
  return { chatId: chat.id, seq, sender, senderName: name, text, at };
}

const messageEvent = (m: ChatMessage): ChatEvent => ({ type: 'message', message: { seq: m.seq, sender: m.sender, senderName: m.senderName, text: m.text, at: m.at.toISOString() } });

/** A person opens a chat on an item (with a first message, optional); it waits in the item's agency's queue. */
export async function openChat(d: ChatDeps, caller: Caller, itemId: unknown, first: unknown): Promise<ChatRecord> {
  if (caller.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', '请先登录 / please log in');
  if (caller.kind !== 'person') throw new AppError('FORBIDDEN', '在线咨询由办事人发起 / a live chat is opened by a person');
  if (caller.actingFor) throw new AppError('FORBIDDEN', '在线咨询以本人名义发起 / a live chat is opened in one\'s own name');
  const text = first === undefined || first === null || first === '' ? null : requiredText('text', first, CHAT_TEXT_MAX);
  if (typeof itemId !== 'string' || !itemId) throw new AppError('BAD_INPUT', '请选择事项 / choose an item', { itemId: 'required' });
  const now = d.clock.now();
  const chat = await d.db.tx(async (q) => {
    const { rows } = await q.query<{ agency_code: string }>('select agency_code from evaluation.item_replica where item_id = $1', [itemId]);
    if (!rows[0]) throw new AppError('FEEDBACK_TARGET_UNKNOWN', '事项不存在 / no such item', { itemId: 'unknown item' });
    const created = await q.query(
      `insert into evaluation.chats (id, item_id, agency_code, author_id, author_name, author_acr, status, opened_at)
       values ($1, $2, $3, $4, $5, $6, 'WAITING', $7) returning ${COLUMNS}`,
      [randomUUID(), itemId, rows[0].agency_code, caller.sub, caller.name, caller.acr ?? null, now]);
    const c = toChat(created.rows[0]!);
    if (text) c.lastSeq = (await addMessage(q, c, 'CITIZEN', caller.name, text, now)).seq;
    return c;
  });
  await announce(d, queueChannel(chat.agencyCode), { type: 'queue' });
  return chat;
}

/** Staff of the chat's agency take a waiting chat. */
export async function takeChat(d: ChatDeps, caller: Caller, id: string): Promise<ChatRecord> {
  const chat = await d.db.tx(async (q) => {
    const { chat: c, role } = await visibleChat(q, caller, id, true);
    if (role.as !== 'STAFF') throw new AppError('FORBIDDEN', '仅限该事项实施机构的工作人员 / staff of the item\'s agency only');
    return take(q, c, role);
  });
  await announce(d, chatChannel(chat.id), { type: 'status', status: chat.status, staffName: chat.staffName });
  await announce(d, queueChannel(chat.agencyCode), { type: 'queue' });
  return chat;
}

async function take(q: Queryable, c: ChatRecord, role: Extract<Role, { as: 'STAFF' }>): Promise<ChatRecord> {
  if (c.status === 'CLOSED') throw new AppError('CHAT_CLOSED', '在线咨询已结束 / the live chat is closed');
  if (c.staffId === role.sub) return c;
  if (c.staffId !== null) throw new AppError('CHAT_TAKEN', `已由${c.staffName ?? '其他工作人员'}接待 / another member of staff has taken this chat`);
  const { rows } = await q.query(`update evaluation.chats set status = 'ACTIVE', staff_id = $2, staff_name = $3 where id = $1 and staff_id is null returning ${COLUMNS}`,
    [c.id, role.sub, role.name]);
  return toChat(rows[0]!);
}

/** A message from the chat's author or the staff member who took it (a staff message to a waiting chat takes it). */
export async function sendMessage(d: ChatDeps, caller: Caller, id: string, text: unknown): Promise<ChatMessage> {
  const body = requiredText('text', text, CHAT_TEXT_MAX);
  const now = d.clock.now();
  let took = false;
  const out = await d.db.tx(async (q) => {
    const found = await visibleChat(q, caller, id, true);
    let c = found.chat;
    const role = found.role;
    if (c.status === 'CLOSED') throw new AppError('CHAT_CLOSED', '在线咨询已结束 / the live chat is closed');
    if (role.as === 'STAFF') {
      if (c.staffId === null) { c = await take(q, c, role); took = true; }
      if (c.staffId !== role.sub) throw new AppError('CHAT_TAKEN', `已由${c.staffName ?? '其他工作人员'}接待 / another member of staff has taken this chat`);
      if (c.firstAnswerAt === null) await q.query('update evaluation.chats set first_answer_at = $2 where id = $1', [c.id, now]);
    }
    return { chat: c, message: await addMessage(q, c, role.as, role.name, body, now) };
  });
  if (took) {
    await announce(d, chatChannel(out.chat.id), { type: 'status', status: 'ACTIVE', staffName: out.chat.staffName });
    await announce(d, queueChannel(out.chat.agencyCode), { type: 'queue' });
  }
  await announce(d, chatChannel(out.chat.id), messageEvent(out.message));
  return out.message;
}

/** Cut a text to `max` characters (code points), marking the cut. */
function capped(s: string, max: number): string {
  const cs = [...s];
  return cs.length <= max ? s : `${cs.slice(0, max - 1).join('')}…`;
}

/**
 * Close a chat (its author, or the agency's staff). A chat in which the person wrote becomes a
 * consultation: answered at the first answer when staff answered, else open with its deadline.
 */
export async function closeChat(d: ChatDeps, caller: Caller, id: string): Promise<ChatRecord> {
  const now = d.clock.now();
  const chat = await d.db.tx(async (q) => {
    const { chat: c, role } = await visibleChat(q, caller, id, true);
    if (c.status === 'CLOSED') return c;
    if (role.as === 'STAFF' && c.staffId !== null && c.staffId !== role.sub) {
      throw new AppError('CHAT_TAKEN', `已由${c.staffName ?? '其他工作人员'}接待 / another member of staff has taken this chat`);
    }
    const lines = await messagesOf(q, c.id, 0, 100_000);
    const asked = lines.filter((m) => m.sender === 'CITIZEN').map((m) => m.text);
    const answered = lines.filter((m) => m.sender === 'STAFF').map((m) => m.text);
    let feedbackId: string | null = null;
    if (asked.length > 0) {
      feedbackId = randomUUID();
      // `c` was read under the row lock of this transaction: its first answer is current.
      const firstAnswer = c.firstAnswerAt;
      const answer = answered.length > 0 && firstAnswer ? capped(answered.join('\n'), TEXT_MAX) : null;
      const acr = (await q.query<{ author_acr: string | null }>('select author_acr from evaluation.chats where id = $1', [c.id])).rows[0]?.author_acr ?? null;
      await q.query(
        `insert into evaluation.feedback (id, kind, author_id, author_name, author_acr, agency_code, item_id, content, public, status, submitted_at, due_at,
           answer, answered_by_id, answered_by_name, answered_at)
         values ($1, 'CONSULTATION', $2, $3, $4, $5, $6, $7, false, $8, $9, $10, $11, $12, $13, $14)`,
        [feedbackId, c.authorId, c.authorName, acr, c.agencyCode, c.itemId, capped(`【在线咨询 / live chat】${asked.join('\n')}`, TEXT_MAX),
          answer ? 'ANSWERED' : 'OPEN', c.openedAt, d.calendar.addWorkingDays(c.openedAt, d.consultationDays),
          answer, answer ? c.staffId : null, answer ? c.staffName : null, answer ? firstAnswer : null]);
      await q.query(
        'insert into evaluation.feedback_steps (feedback_id, action, agency_code, actor_id, actor_name, note, at) values ($1, $2, $3, $4, $5, $6, $7)',
        [feedbackId, 'submit', c.agencyCode, c.authorId, c.authorName, 'live chat', c.openedAt]);
      if (answer) {
        await q.query(
          'insert into evaluation.feedback_steps (feedback_id, action, agency_code, actor_id, actor_name, note, at) values ($1, $2, $3, $4, $5, $6, $7)',
          [feedbackId, 'answer', c.agencyCode, c.staffId, c.staffName, 'live chat', firstAnswer]);
      }
    }
    const { rows } = await q.query(
      `update evaluation.chats set status = 'CLOSED', closed_at = $2, closed_by = $3, feedback_id = $4,
         staff_id = coalesce(staff_id, $5), staff_name = coalesce(staff_name, $6)
       where id = $1 returning ${COLUMNS}`,
      [c.id, now, role.as, feedbackId, role.as === 'STAFF' ? role.sub : null, role.as === 'STAFF' ? role.name : null]);
    return toChat(rows[0]!);
  });
  await announce(d, chatChannel(chat.id), { type: 'status', status: 'CLOSED', staffName: chat.staffName });
  await announce(d, queueChannel(chat.agencyCode), { type: 'queue' });
  return chat;
}

/** The agency's chats in one state, oldest first (its staff's queue). */
export async function chatQueue(q: Queryable, caller: Caller, status: ChatStatus): Promise<ChatRecord[]> {
  if (caller.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', '请先登录 / please log in');
  if (caller.kind !== 'staff') throw new AppError('FORBIDDEN', '仅限工作人员 / staff only');
  const { rows } = await q.query(`select ${COLUMNS} from evaluation.chats where agency_code = $1 and status = $2 order by opened_at, id limit 200`,
    [caller.agency, status]);
  return rows.map(toChat);
}

export async function chatsOfAuthor(q: Queryable, caller: Caller): Promise<ChatRecord[]> {
  if (caller.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', '请先登录 / please log in');
  if (caller.kind !== 'person') return [];
  const { rows } = await q.query(`select ${COLUMNS} from evaluation.chats where author_id = $1 order by opened_at desc, id limit 50`, [caller.sub]);
  return rows.map(toChat);
}

export async function chatOfFeedback(q: Queryable, feedbackId: string): Promise<ChatRecord | null> {
  const { rows } = await q.query(`select ${COLUMNS} from evaluation.chats where feedback_id = $1`, [feedbackId]);
  return rows[0] ? toChat(rows[0]) : null;
}
