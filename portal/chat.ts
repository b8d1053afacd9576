/**
 * The live chat widget of the item guides (R-EV-2). A person logged in on the guide pages
 * (login.ts) opens a chat about the item they are reading; it goes to the item's agency.
 *
 * The page works without JavaScript up to the chat itself: the section says to log in, or shows
 * the chat form; `/assets/chat.js` (the only script, same origin) makes it live. The script talks
 * to this site only:
 * - `POST /chat/api/<open|send|close>` (JSON, with the `x-yiwang-chat` header so no other site's
 *   form can post here): the portal calls the graph with the person's access token;
 * - `GET /chat/stream?chat=<id>` (EventSource; a reconnect sends Last-Event-ID): the portal asks
 *   the graph for a stream ticket and relays the evaluation service's Server-Sent Events.
 * Errors come back as `{ code, message }` with the graph's code (UNAUTHENTICATED when the login
 * expired: the widget then offers to log in again).
 */
import type { Context } from 'koa';
import type { Router } from '@koa/router';
import { Readable } from 'node:stream';
import { html, type Html } from '../kernel/html.ts';
import { isUuid } from '../kernel/ids.ts';
import type { Logger } from '../kernel/log.ts';
import type { GraphClient } from './graph.ts';
import { accessToken } from './login.ts';
import { t, type Lang } from './text.ts';

const OPEN = 'mutation ($i: ID!, $t: String) { openChat(itemId: $i, text: $t) { id status staffName } }';
const SEND = 'mutation ($c: ID!, $t: String!) { sendChatMessage(chatId: $c, text: $t) { seq } }';
const CLOSE = 'mutation ($id: ID!) { closeChat(id: $id) { id status } }';
const TICKET = 'mutation ($c: ID) { chatStreamTicket(chatId: $c) { ticket path } }';

/** The chat section of a guide page. */
export function chatSection(lang: Lang, itemId: string, loggedIn: boolean, returnPath: string): Html {
  const texts = {
    // {name} is filled in by the widget: handed over as written.
    waiting: t(lang, 'chatWaiting'), joined: t(lang, 'chatJoined', { name: '{name}' }), closed: t(lang, 'chatClosed'), you: t(lang, 'chatYou'),
    failed: t(lang, 'chatFailed'), relogin: t(lang, 'chatRelogin'), staff: t(lang, 'chatStaff', { name: '{name}' }),
  };
  const login = `/login?return=${encodeURIComponent(returnPath)}${lang === 'en' ? '&lang=en' : ''}`;
  return html`<section aria-labelledby="chat-h" class="chat" id="chat" data-item="${itemId}" data-login="${login}" data-text="${JSON.stringify(texts)}">
<h2 id="chat-h">${t(lang, 'chat')}</h2>
<p class="hint">${t(lang, 'chatIntro')}</p>
${loggedIn ? html`<ol class="chat-log" role="log" aria-live="polite" aria-label="${t(lang, 'chatLog')}"></ol>
<p class="chat-status" role="status"></p>
<form class="chat-form" method="post" action="/chat/api/send">
  <label for="chat-text">${t(lang, 'chatLabel')}</label>
  <textarea id="chat-text" name="text" rows="3" maxlength="1000" required></textarea>
  <div class="row"><button type="submit">${t(lang, 'chatSend')}</button>
  <button type="button" class="chat-close" hidden>${t(lang, 'chatEnd')}</button></div>
</form>
<script src="/assets/chat.js" defer></script>` : html`<p><a href="${login}">${t(lang, 'chatLogin')}</a></p>`}
</section>`;
}

/** The widget: plain DOM, no framework; texts come from the section's data-text. */
export const CHAT_JS = `(() => {
  const root = document.getElementById('chat');
  if (!root) return;
  const T = JSON.parse(root.dataset.text);
  const log = root.querySelector('.chat-log');
  const status = root.querySelector('.chat-status');
  const form = root.querySelector('.chat-form');
  const box = root.querySelector('#chat-text');
  const end = root.querySelector('.chat-close');
  let chat = null, source = null;
  const say = (s) => { status.textContent = s; };
  const line = (m) => {
    const li = document.createElement('li');
    li.className = m.sender === 'STAFF' ? 'staff' : 'citizen';
    const who = document.createElement('b');
    who.textContent = (m.sender === 'STAFF' ? T.staff.replace('{name}', m.senderName) : T.you) + '：';
    li.append(who, document.createTextNode(m.text));
    log.append(li);
  };
  const api = async (op, body) => {
    const r = await fetch('/chat/api/' + op, { method: 'POST', headers: { 'content-type': 'application/json', 'x-yiwang-chat': '1' }, body: JSON.stringify(body) });
    const j = await r.json().catch(() => ({ code: 'INTERNAL', message: T.failed }));
    if (!r.ok || j.code) {
      if (j.code === 'UNAUTHENTICATED' || (j.code || '').startsWith('TOKEN_')) {
        const a = document.createElement('a'); a.href = root.dataset.login; a.textContent = T.relogin;
        status.replaceChildren(a);
      } else say(j.message || T.failed);
      throw new Error(j.code);
    }
    return j;
  };
  const listen = () => {
    source = new EventSource('/chat/stream?chat=' + encodeURIComponent(chat));
    source.addEventListener('message', (e) => line(JSON.parse(e.data)));
    source.addEventListener('status', (e) => {
      const s = JSON.parse(e.data);
      if (s.status === 'WAITING') say(T.waiting);
      if (s.status === 'ACTIVE') say(T.joined.replace('{name}', s.staffName || ''));
      if (s.status === 'CLOSED') { say(T.closed); source.close(); form.querySelector('button[type=submit]').disabled = true; box.disabled = true; end.hidden = true; }
    });
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = box.value.trim();
    if (!text) return;
    try {
      if (!chat) {
        const c = await api('open', { itemId: root.dataset.item, text });
        chat = c.id; end.hidden = false; listen();
      } else await api('send', { chatId: chat, text });
      box.value = '';
      box.focus();
    } catch { /* shown in the status line */ }
  });
  end.addEventListener('click', async () => { if (chat) { try { await api('close', { chatId: chat }); } catch { /* shown */ } } });
})();
`;

export function mountChat(router: Router, o: { graph: GraphClient; evaluationUrl: string; log: Logger }): void {
  const fail = (ctx: Context, status: number, code: string, message: string) => { ctx.status = status; ctx.body = { code, message }; };
  const token = (ctx: Context) => {
    const at = accessToken(ctx);
    if (!at) fail(ctx, 401, 'UNAUTHENTICATED', '请先登录 / please log in');
    return at;
  };
  const asPerson = async <T>(ctx: Context, at: string, query: string, variables: Record<string, unknown>): Promise<T | null> => {
    const r = await o.graph.asPerson!<T>(at, query, variables);
    if ('code' in r) {
      const status = r.code === 'UNAUTHENTICATED' || r.code.startsWith('TOKEN_') ? 401 : r.code === 'SERVICE_UNAVAILABLE' || r.code === 'INTERNAL' ? 503 : 400;
      fail(ctx, status, r.code, r.message);
      return null;
    }
    return r.data;
  };

  router.get('/assets/chat.js', (ctx) => {
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.set('cache-control', 'public, max-age=3600');
    ctx.body = CHAT_JS;
  });

  router.post('/chat/api/:op', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    if (ctx.get('x-yiwang-chat') !== '1' || !ctx.is('application/json')) return fail(ctx, 400, 'BAD_INPUT', '请求格式错误 / malformed request');
    const at = token(ctx);
    if (!at) return;
    const body = await readJson(ctx);
    const str = (k: string) => (typeof body[k] === 'string' ? body[k] as string : '');
    switch (ctx.params.op) {
      case 'open': {
        const d = await asPerson<{ openChat: { id: string } }>(ctx, at, OPEN, { i: str('itemId'), t: str('text') || null });
        if (d) ctx.body = d.openChat;
        return;
      }
      case 'send': {
        const d = await asPerson<{ sendChatMessage: { seq: number } }>(ctx, at, SEND, { c: str('chatId'), t: str('text') });
        if (d) ctx.body = d.sendChatMessage;
        return;
      }
      case 'close': {
        const d = await asPerson<{ closeChat: { id: string } }>(ctx, at, CLOSE, { id: str('chatId') });
        if (d) ctx.body = d.closeChat;
        return;
      }
      default:
        return fail(ctx, 404, 'NOT_FOUND', '未找到 / not found');
    }
  });

  router.get('/chat/stream', async (ctx) => {
    const at = token(ctx);
    if (!at) return;
    const chat = typeof ctx.query.chat === 'string' ? ctx.query.chat : '';
    if (!isUuid(chat)) return fail(ctx, 400, 'BAD_INPUT', 'chat 须为咨询编号 / chat must be a chat id');
    const last = Number(ctx.get('last-event-id') || ctx.query.after || 0);
    const after = Number.isInteger(last) && last >= 0 ? last : 0;
    const d = await asPerson<{ chatStreamTicket: { ticket: string; path: string } }>(ctx, at, TICKET, { c: chat });
    if (!d) return;
    const ac = new AbortController();
    let upstream: Response;
    try {
      upstream = await fetch(`${o.evaluationUrl}${d.chatStreamTicket.path}?after=${after}`, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${d.chatStreamTicket.ticket}` }, signal: ac.signal,
      });
    } catch (e) {
      o.log.warn({ err: e }, 'portal: chat stream unavailable');
      return fail(ctx, 503, 'SERVICE_UNAVAILABLE', '服务暂时不可用 / the service is unavailable');
    }
    if (!upstream.ok || !upstream.body) {
      const p = await upstream.json().catch(() => ({})) as { code?: string; detail?: string };
      return fail(ctx, upstream.status, p.code ?? 'SERVICE_UNAVAILABLE', p.detail ?? '服务暂时不可用 / the service is unavailable');
    }
    // Relayed by hand, so the person leaving ends the upstream stream too, quietly.
    ctx.respond = false;
    ctx.req.socket.setTimeout(0);
    ctx.res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    const body = Readable.fromWeb(upstream.body as import('node:stream/web').ReadableStream);
    const stop = () => { ac.abort(); body.destroy(); };
    ctx.res.on('close', stop);
    ctx.res.on('error', stop);
    body.on('error', () => { if (!ctx.res.writableEnded) ctx.res.end(); });
    body.pipe(ctx.res);
  });
}

async function readJson(ctx: Context): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of ctx.req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 8192) return {};
    chunks.push(c);
  }
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    return v && typeof v === 'object' ? v as Record<string, unknown> : {};
  } catch {
    return {};
  }
}
