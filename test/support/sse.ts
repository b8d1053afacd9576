/**
 * A Server-Sent Events reader for tests: `fetch` with headers (EventSource cannot send
 * Authorization), the body parsed into events as they arrive. `next(match)` waits for the first
 * event not yet taken that matches; `ended` resolves when the server ends the stream.
 */
export interface SseEvent { event: string; data: string; id?: string }

export interface SseStream {
  status: number;
  contentType: string;
  /** The body of a refused request (problem+json). */
  problem: Record<string, unknown> | null;
  events: SseEvent[];
  next(match?: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  ended: Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  const taken = new Set<SseEvent>();
  const contentType = res.headers.get('content-type') ?? '';
  if (!contentType.startsWith('text/event-stream')) {
    const problem = await res.json().catch(() => null) as Record<string, unknown> | null;
    return { status: res.status, contentType, problem, events, next: () => Promise.reject(new Error('not a stream')), ended: Promise.resolve(), close: () => ac.abort() };
  }
  const ended = (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const e: SseEvent = { event: 'message', data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const [k, ...rest] = line.split(':');
            const v = rest.join(':').replace(/^ /, '');
            if (k === 'event') e.event = v; else if (k === 'data') data.push(v); else if (k === 'id') e.id = v;
          }
          if (data.length === 0) continue;
          e.data = data.join('\n');
          events.push(e);
          for (const w of [...waiters]) w();
        }
      }
    } catch { /* aborted */ }
    for (const w of [...waiters]) w();
  })();
  let done = false;
  void ended.then(() => { done = true; });
  return {
    status: res.status, contentType, problem: null, events, ended,
    close: () => ac.abort(),
    next(match = () => true, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const e = events.find((x) => !taken.has(x) && match(x));
          if (e) { taken.add(e); waiters.delete(check); clearTimeout(timer); resolve(e); return; }
          if (done) { waiters.delete(check); clearTimeout(timer); reject(new Error(`stream ended; events: ${JSON.stringify(events)}`)); }
        };
        const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no matching event within ${timeoutMs} ms; events: ${JSON.stringify(events)}`)); }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
