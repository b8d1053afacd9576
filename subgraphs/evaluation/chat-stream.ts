/**
 * The live side of chats (R-EV-2): Server-Sent Events from `GET /chat/stream` of the evaluation
 * service (the gateway carries no GraphQL subscriptions). Everything else about a chat goes
 * through the graph with the IdP's access tokens; the stream is opened with a ticket the graph
 * hands out (`chatStreamTicket`) to the chat's author or its agency's staff: HMAC-SHA256 under the
 * internal secret over the chat (or the agency queue), the caller and an expiry 60 s ahead,
 * sent as `Authorization: Bearer <ticket>` (never in the address, so never in access logs).
 * Access is checked again against the chat when the stream opens.
 *
 * A chat stream sends the messages after `?after=<seq>` from the transcript, the chat's state,
 * then whatever `chat:<id>` carries (Redis pub/sub: a message sent through any evaluation
 * process reaches listeners on every process); it subscribes before reading the transcript and
 * drops what it already sent by seq, so nothing falls in between. A queue stream (staff) sends
 * `queue` whenever the agency's queue changes. `: ping` comments every 15 s keep proxies open.
 * The stream of a chat ends after the chat closes.
 */
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { Router } from '@koa/router';
import type { Cache } from '../../kernel/cache.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Queryable } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import { isUuid } from '../../kernel/ids.ts';
import type { Caller } from '../../kernel/internal-auth.ts';
import type { Logger } from '../../kernel/log.ts';
import type { Background } from '../../kernel/subgraph.ts';
import { chatById, chatChannel, messagesOf, queueChannel, roleIn, type ChatEvent } from './chat.ts';

export const TICKET_TTL_SECONDS = 60;
export const HEARTBEAT_MS = 15_000;

interface Ticket {
  /** The chat, or null for the agency queue (staff). */
  chat: string | null;
  kind: 'person' | 'staff';
  sub: string;
  agency: string | null;
  exp: number;
}

const mac = (key: KeyObject, body: string) => createHmac('sha256', key).update(`yiwang-chat-ticket.${body}`).digest();

export function issueTicket(key: KeyObject, caller: Caller, chat: string | null, now: Date): { ticket: string; expiresAt: Date } {
  if (caller.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', '请先登录 / please log in');
  const exp = Math.floor(now.getTime() / 1000) + TICKET_TTL_SECONDS;
  const t: Ticket = { chat, kind: caller.kind, sub: caller.sub, agency: caller.kind === 'staff' ? caller.agency : null, exp };
  const body = Buffer.from(JSON.stringify(t)).toString('base64url');
  return { ticket: `${body}.${mac(key, body).toString('base64url')}`, expiresAt: new Date(exp * 1000) };
}

export function verifyTicket(key: KeyObject, ticket: string | undefined, now: Date): Ticket {
  const bad = () => new AppError('CHAT_TICKET_INVALID', '在线咨询连接凭据无效或已过期 / the chat stream ticket is invalid or expired');
  const [body, sig, extra] = (ticket ?? '').split('.');
  if (!body || !sig || extra !== undefined) throw bad();
  const want = mac(key, body);
  const got = Buffer.from(sig, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw bad();
  let t: Ticket;
  try { t = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Ticket; } catch { throw bad(); }
  if (typeof t.exp !== 'number' || t.exp * 1000 < now.getTime()) throw bad();
  return t;
}

const callerOf = (t: Ticket): Caller => (t.kind === 'staff'
  ? { kind: 'staff', sub: t.sub, name: '', agency: t.agency ?? '', roles: [] }
  : { kind: 'person', sub: t.sub, name: '' });

function frame(event: string, data: unknown, id?: number): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export interface ChatStreams extends Background {
  mount(router: Router): void;
  /** Streams open now (tests, metrics). */
  readonly open: number;
}

export function chatStreams(o: { db: Queryable; cache: Cache; key: KeyObject; clock: Clock; log: Logger }): ChatStreams {
  const live = new Set<(gone?: boolean) => void>();
  return {
    get open() { return live.size; },
    // The server closes every connection right after: nothing more is written.
    async stop() { for (const end of [...live]) end(true); },
    mount(router) {
      router.get('/chat/stream', async (ctx) => {
        const auth = ctx.get('authorization');
        const t = verifyTicket(o.key, auth.startsWith('Bearer ') ? auth.slice(7) : undefined, o.clock.now());
        const after = Number(ctx.query.after ?? 0);
        if (!Number.isInteger(after) || after < 0) throw new AppError('BAD_INPUT', 'after 须为消息序号 / after must be a message number', { after: 'a non-negative integer' });
        const out = new PassThrough();
        const unsubscribes: Array<() => Promise<void>> = [];
        let ended = false;
        /** End the stream; when the client has gone (`gone`), nothing more is written to it. */
        const end = (gone = false) => {
          if (ended) return;
          ended = true;
          live.delete(end);
          clearInterval(beat);
          for (const u of unsubscribes) u().catch(() => undefined);
          if (gone || ctx.res.destroyed) { out.unpipe(); out.destroy(); } else out.end();
        };
        const beat = setInterval(() => out.write(': ping\n\n'), HEARTBEAT_MS);
        live.add(end);
        // The response closes when the client goes away (the request's own 'close' only means its body was read).
        ctx.res.on('close', () => end(true));
        try {
          if (t.chat === null) {
            if (t.kind !== 'staff' || !t.agency) throw new AppError('CHAT_TICKET_INVALID', '在线咨询连接凭据无效 / the chat stream ticket is invalid');
            unsubscribes.push(await o.cache.subscribe(queueChannel(t.agency), () => out.write(frame('queue', {}))));
            out.write(frame('queue', {}));
          } else {
            if (!isUuid(t.chat)) throw new AppError('CHAT_TICKET_INVALID', '在线咨询连接凭据无效 / the chat stream ticket is invalid');
            const chat = await chatById(o.db, t.chat);
            if (!chat || !roleIn(callerOf(t), chat)) throw new AppError('CHAT_NOT_FOUND', '没有这个在线咨询 / no such live chat');
            let sent = after;
            let replaying = true;
            const held: ChatEvent[] = [];
            const deliver = (e: ChatEvent) => {
              if (e.type === 'message') {
                if (e.message.seq <= sent) return;
                sent = e.message.seq;
                out.write(frame('message', e.message, e.message.seq));
              } else {
                out.write(frame('status', e));
                if (e.status === 'CLOSED') setImmediate(() => end());
              }
            };
            unsubscribes.push(await o.cache.subscribe(chatChannel(chat.id), (raw) => {
              let e: ChatEvent;
              try { e = JSON.parse(raw) as ChatEvent; } catch { return; }
              if (replaying) held.push(e); else deliver(e);
            }));
            for (const m of await messagesOf(o.db, chat.id, after, 100_000)) {
              deliver({ type: 'message', message: { seq: m.seq, sender: m.sender, senderName: m.senderName, text: m.text, at: m.at.toISOString() } });
            }
            const now = await chatById(o.db, chat.id);
            replaying = false;
            for (const e of held.splice(0)) if (e.type === 'message') deliver(e);
            deliver({ type: 'status', status: now!.status, staffName: now!.staffName });
          }
        } catch (e) {
          end(true);
          throw e;
        }
        ctx.req.socket.setTimeout(0);
        ctx.req.socket.setNoDelay(true);
        // Written by hand rather than by Koa's body pipeline, so a client going away ends the
        // stream quietly instead of raising a write error.
        ctx.respond = false;
        ctx.res.on('error', () => end(true));
        ctx.res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
        out.pipe(ctx.res);
      });
    },
  };
}
