/**
 * The narrow slice of Redis the platform uses: keys with expiry, counters, sets, and streams with
 * consumer groups, and pub/sub channels (live fan-out between processes: no history, a message
 * reaches whoever listens at that moment). `openCache({ url })` gives real Redis (node-redis) when REDIS_URL is set, and an
 * in-process substitute with the same semantics otherwise (the embedded default only; CI runs the
 * real one). Every key is namespaced with `prefix`, so tests and tiers can share one server.
 */
import { createClient } from 'redis';

export interface StreamMessage {
  id: string;
  fields: Record<string, string>;
  /** How many times this message has been delivered to a consumer of the group (1 on first read). */
  deliveries?: number;
}

export interface Cache {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  /** Set a value; with `nx`, only when absent (returns false when it existed). */
  set(key: string, value: string, opts?: { ttlSeconds?: number; nx?: boolean }): Promise<boolean>;
  del(...keys: string[]): Promise<number>;
  /** Increment, setting the expiry when the key is created. */
  incr(key: string, ttlSeconds?: number): Promise<number>;
  ttl(key: string): Promise<number>;
  expire(key: string, ttlSeconds: number): Promise<void>;
  sAdd(key: string, member: string, ttlSeconds?: number): Promise<void>;
  sMembers(key: string): Promise<string[]>;
  xAdd(stream: string, fields: Record<string, string>): Promise<string>;
  /** Create the group at the start of the stream if it does not exist (creates the stream too). */
  xGroupCreate(stream: string, group: string): Promise<void>;
  /** Read new messages for `consumer`; waits up to `blockMs` when none are there. */
  xReadGroup(stream: string, group: string, consumer: string, opts: { count: number; blockMs: number }): Promise<StreamMessage[]>;
  xAck(stream: string, group: string, ...ids: string[]): Promise<void>;
  /** Take over messages pending longer than `minIdleMs` (a crashed consumer's), for `consumer`. */
  xAutoClaim(stream: string, group: string, consumer: string, minIdleMs: number, count: number): Promise<StreamMessage[]>;
  xLen(stream: string): Promise<number>;
  /**
   * The acknowledgement floor of a stream: an id below which every entry has been acknowledged
   * by every consumer group (the lowest of each group's first pending id, or of its last delivered
   * id + 1 when nothing is pending). Null when the stream or its groups do not exist (nothing is
   * known to be acknowledged).
   */
  xAckFloor(stream: string): Promise<string | null>;
  /** The first `count` entries of a stream, oldest first (for operators: dead letters). */
  xRange(stream: string, count: number): Promise<StreamMessage[]>;
  /** Remove entries; returns how many were there. */
  xDel(stream: string, ...ids: string[]): Promise<number>;
  /** Publish on a channel to every process listening now; returns how many Redis subscribers got it (memory: listeners). */
  publish(channel: string, message: string): Promise<number>;
  /**
   * Listen on a channel until the returned function is called. Subscriptions share one
   * connection per cache; the subscription is in place when the promise resolves.
   */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface CacheOptions {
  url?: string | undefined;
  prefix?: string | undefined;
}

export async function openCache(opts: CacheOptions): Promise<Cache> {
  const prefix = opts.prefix ?? 'yw:';
  return opts.url ? openRedis(opts.url, prefix) : new MemoryCache(prefix);
}

type RedisClient = ReturnType<typeof createClient>;

async function openRedis(url: string, prefix: string): Promise<Cache> {
  const client: RedisClient = createClient({ url });
  client.on('error', () => { /* reconnects by itself; commands fail meanwhile */ });
  await client.connect();
  // Blocking reads get their own connections so they never stall ordinary commands.
  const blocking = new Map<string, RedisClient>();
  let subscriber: Promise<RedisClient> | null = null;
  const k = (key: string) => prefix + key;
  const toMessages = (entries: Array<{ id: string; message: Record<string, string> } | null>): StreamMessage[] =>
    entries.filter((e): e is { id: string; message: Record<string, string> } => e !== null)
      .map((e) => ({ id: e.id, fields: { ...e.message } }));
  return {
    kind: 'redis',
    get: (key) => client.get(k(key)) as Promise<string | null>,
    async set(key, value, o = {}) {
      const r = await client.set(k(key), value, {
        ...(o.ttlSeconds ? { expiration: { type: 'EX', value: Math.max(1, Math.ceil(o.ttlSeconds)) } } : {}),
        ...(o.nx ? { condition: 'NX' } : {}),
      });
      return r === 'OK';
    },
    del: (...keys) => (keys.length ? client.del(keys.map(k)) : Promise.resolve(0)),
    // One atomic step (MULTI): a counter never exists without its expiry, whatever fails between
    // calls. EXPIRE NX sets the expiry only when the key has none, so a window is not extended by
    // later increments, and a counter left without one (written by older code) gets one back.
    async incr(key, ttl) {
      if (!ttl) return client.incr(k(key));
      const [n] = await client.multi().incr(k(key)).expire(k(key), Math.max(1, Math.ceil(ttl)), 'NX').exec() as unknown as [number, number];
      return n;
    },
    ttl: (key) => client.ttl(k(key)),
    async expire(key, ttl) { await client.expire(k(key), Math.max(1, Math.ceil(ttl))); },
    async sAdd(key, member, ttl) {
      if (!ttl) { await client.sAdd(k(key), member); return; }
      await client.multi().sAdd(k(key), member).expire(k(key), Math.max(1, Math.ceil(ttl))).exec();
    },
    sMembers: (key) => client.sMembers(k(key)),
    xAdd: (stream, fields) => client.xAdd(k(stream), '*', fields),
    async xGroupCreate(stream, group) {
      try {
        await client.xGroupCreate(k(stream), group, '0', { MKSTREAM: true });
      } catch (e) {
        if (!String((e as Error).message).includes('BUSYGROUP')) throw e;
      }
    },
    async xReadGroup(stream, group, consumer, o) {
      const id = `${stream}|${group}|${consumer}`;
      let c = blocking.get(id);
      if (!c) {
        c = client.duplicate();
        c.on('error', () => undefined);
        await c.connect();
        blocking.set(id, c);
      }
      const r = await c.xReadGroup(group, consumer, { key: k(stream), id: '>' }, { COUNT: o.count, BLOCK: o.blockMs }) as
        Array<{ name: string; messages: Array<{ id: string; message: Record<string, string> }> }> | null;
      return r?.[0] ? toMessages(r[0].messages) : [];
    },
    async xAck(stream, group, ...ids) { if (ids.length) await client.xAck(k(stream), group, ids); },
    async xAutoClaim(stream, group, consumer, minIdleMs, count) {
      const r = await client.xAutoClaim(k(stream), group, consumer, minIdleMs, '0-0', { COUNT: count });
      return toMessages(r.messages as Array<{ id: string; message: Record<string, string> } | null>);
    },
    xLen: (stream) => client.xLen(k(stream)),
    async xAckFloor(stream) {
      let groups: Array<{ name: string; pending: number; lastDelivered: string }>;
      try {
        groups = (await client.xInfoGroups(k(stream)) as unknown as Array<Record<string, unknown>>)
          .map((g) => ({ name: String(g.name), pending: Number(g.pending), lastDelivered: String(g['last-delivered-id']) }));
      } catch (e) {
        if (/no such key/i.test(String((e as Error).message))) return null;
        throw e;
      }
      if (groups.length === 0) return null;
      const floors = await Promise.all(groups.map(async (g) => {
        if (g.pending === 0) return nextId(g.lastDelivered);
        const p = await client.xPending(k(stream), g.name);
        return p.firstId ? String(p.firstId) : nextId(g.lastDelivered);
      }));
      return floors.reduce((a, b) => (cmpId(a, b) <= 0 ? a : b));
    },
    async xRange(stream, count) {
      return toMessages(await client.xRange(k(stream), '-', '+', { COUNT: count }) as Array<{ id: string; message: Record<string, string> }>);
    },
    async xDel(stream, ...ids) { return ids.length ? client.xDel(k(stream), ids) : 0; },
    publish: (channel, message) => client.publish(k(channel), message),
    async subscribe(channel, listener) {
      // A connection in subscriber mode takes no other commands: one of its own, made on first use.
      if (!subscriber) {
        subscriber = (async () => {
          const c = client.duplicate();
          c.on('error', () => undefined);
          await c.connect();
          return c;
        })();
      }
      const c = await subscriber;
      await c.subscribe(k(channel), listener);
      return async () => { if (c.isOpen) await c.unsubscribe(k(channel), listener); };
    },
    async ping() { return (await client.ping()) === 'PONG'; },
    async close() {
      if (subscriber) {
        const c = await subscriber.catch(() => null);
        try { c?.destroy(); } catch { /* already closed */ }
      }
      // A blocked XREADGROUP would hold a graceful close for up to its BLOCK time: cut those.
      for (const c of blocking.values()) {
        try { c.destroy(); } catch { /* pending blocked read is rejected to its caller */ }
      }
      await client.close();
    },
  };
}

interface Entry { value: string | Set<string>; expiresAt: number | null }
interface Pending { consumer: string; deliveredAt: number; deliveries: number }
interface Group { lastId: string; pending: Map<string, Pending> }
interface Stream { entries: Array<{ id: string; fields: Record<string, string> }>; groups: Map<string, Group>; lastMs: number; seq: number }

/** In-process stand-in for Redis with the same observable behaviour for the commands above. */
export class MemoryCache implements Cache {
  readonly kind = 'memory' as const;
  #data = new Map<string, Entry>();
  #streams = new Map<string, Stream>();
  #waiters = new Set<() => void>();
  #closed = false;
  readonly #prefix: string;
  readonly #now: () => number;

  constructor(prefix = 'yw:', now: () => number = Date.now) {
    this.#prefix = prefix;
    this.#now = now;
  }

  #live(key: string): Entry | undefined {
    const e = this.#data.get(this.#prefix + key);
    if (e && e.expiresAt !== null && e.expiresAt <= this.#now()) {
      this.#data.delete(this.#prefix + key);
      return undefined;
    }
    return e;
  }

  async get(key: string) {
    const e = this.#live(key);
    return e && typeof e.value === 'string' ? e.value : null;
  }
  async set(key: string, value: string, o: { ttlSeconds?: number; nx?: boolean } = {}) {
    if (o.nx && (this.#live(key) || this.#streams.has(this.#prefix + key))) return false;
    this.#streams.delete(this.#prefix + key); // SET replaces a value of any type
    this.#data.set(this.#prefix + key, { value, expiresAt: o.ttlSeconds ? this.#now() + o.ttlSeconds * 1000 : null });
    return true;
  }
  async del(...keys: string[]) {
    let n = 0;
    for (const key of keys) {
      if (this.#live(key) && this.#data.delete(this.#prefix + key)) n++;
      else if (this.#streams.delete(this.#prefix + key)) n++;
    }
    for (const w of [...this.#waiters]) w();
    return n;
  }
  async incr(key: string, ttl?: number) {
    const e = this.#live(key);
    const n = (e && typeof e.value === 'string' ? Number(e.value) : 0) + 1;
    // As Redis with EXPIRE NX: the first expiry stands; a counter without one gets one.
    const expiresAt = e?.expiresAt ?? (ttl ? this.#now() + ttl * 1000 : null);
    this.#data.set(this.#prefix + key, { value: String(n), expiresAt });
    return n;
  }
  async ttl(key: string) {
    const e = this.#live(key);
    if (!e) return -2;
    return e.expiresAt === null ? -1 : Math.ceil((e.expiresAt - this.#now()) / 1000);
  }
  async expire(key: string, ttl: number) {
    const e = this.#live(key);
    if (e) e.expiresAt = this.#now() + ttl * 1000;
  }
  async sAdd(key: string, member: string, ttl?: number) {
    let e = this.#live(key);
    if (!e || typeof e.value === 'string') {
      e = { value: new Set<string>(), expiresAt: null };
      this.#data.set(this.#prefix + key, e);
    }
    (e.value as Set<string>).add(member);
    if (ttl) e.expiresAt = this.#now() + ttl * 1000;
  }
  async sMembers(key: string) {
    const e = this.#live(key);
    return e && e.value instanceof Set ? [...e.value] : [];
  }

  #stream(name: string): Stream {
    if (this.#live(name)) throw new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
    let s = this.#streams.get(this.#prefix + name);
    if (!s) {
      s = { entries: [], groups: new Map(), lastMs: 0, seq: 0 };
      this.#streams.set(this.#prefix + name, s);
    }
    return s;
  }
  async xAdd(stream: string, fields: Record<string, string>) {
    const s = this.#stream(stream);
    const ms = Math.max(this.#now(), s.lastMs);
    s.seq = ms === s.lastMs ? s.seq + 1 : 0;
    s.lastMs = ms;
    const id = `${ms}-${s.seq}`;
    s.entries.push({ id, fields: { ...fields } });
    for (const w of [...this.#waiters]) w();
    return id;
  }
  async xGroupCreate(stream: string, group: string) {
    const s = this.#stream(stream);
    if (!s.groups.has(group)) s.groups.set(group, { lastId: '0-0', pending: new Map() });
  }
  #group(stream: string, group: string): Group {
    const g = this.#stream(stream).groups.get(group);
    if (!g) throw new Error(`NOGROUP No such consumer group '${group}' for stream '${stream}'`);
    return g;
  }
  async xReadGroup(stream: string, group: string, consumer: string, o: { count: number; blockMs: number }) {
    const deadline = Date.now() + o.blockMs;
    for (;;) {
      const g = this.#group(stream, group);
      const fresh = this.#stream(stream).entries.filter((e) => cmpId(e.id, g.lastId) > 0).slice(0, o.count);
      if (fresh.length > 0) {
        g.lastId = fresh[fresh.length - 1]!.id;
        for (const e of fresh) g.pending.set(e.id, { consumer, deliveredAt: this.#now(), deliveries: 1 });
        return fresh.map((e) => ({ id: e.id, fields: { ...e.fields }, deliveries: 1 }));
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.#closed) return [];
      await new Promise<void>((resolve) => {
        const done = () => { clearTimeout(t); this.#waiters.delete(done); resolve(); };
        const t = setTimeout(done, left);
        this.#waiters.add(done);
      });
    }
  }
  async xAck(stream: string, group: string, ...ids: string[]) {
    const g = this.#group(stream, group);
    for (const id of ids) g.pending.delete(id);
  }
  async xAutoClaim(stream: string, group: string, consumer: string, minIdleMs: number, count: number) {
    const g = this.#group(stream, group);
    const s = this.#stream(stream);
    const out: StreamMessage[] = [];
    for (const [id, p] of [...g.pending].sort((a, b) => cmpId(a[0], b[0]))) {
      if (out.length >= count) break;
      if (this.#now() - p.deliveredAt < minIdleMs) continue;
      const e = s.entries.find((x) => x.id === id);
      if (!e) { g.pending.delete(id); continue; }
      p.consumer = consumer;
      p.deliveredAt = this.#now();
      p.deliveries += 1;
      out.push({ id, fields: { ...e.fields }, deliveries: p.deliveries });
    }
    return out;
  }
  async xLen(stream: string) { return this.#stream(stream).entries.length; }
  async xAckFloor(stream: string) {
    const s = this.#streams.get(this.#prefix + stream);
    if (!s || s.groups.size === 0) return null;
    let floor: string | null = null;
    for (const g of s.groups.values()) {
      const firstPending = [...g.pending.keys()].sort(cmpId)[0];
      const f = firstPending ?? nextId(g.lastId);
      if (floor === null || cmpId(f, floor) < 0) floor = f;
    }
    return floor;
  }
  /** Lose every key and stream under this prefix, as Redis restarted without persistence does; returns how many. */
  clear(): number {
    let n = 0;
    for (const key of [...this.#data.keys()]) if (key.startsWith(this.#prefix) && this.#data.delete(key)) n++;
    for (const key of [...this.#streams.keys()]) if (key.startsWith(this.#prefix) && this.#streams.delete(key)) n++;
    for (const w of [...this.#waiters]) w();
    return n;
  }
  async xRange(stream: string, count: number) {
    return this.#stream(stream).entries.slice(0, count).map((e) => ({ id: e.id, fields: { ...e.fields } }));
  }
  async xDel(stream: string, ...ids: string[]) {
    const s = this.#stream(stream);
    const before = s.entries.length;
    s.entries = s.entries.filter((e) => !ids.includes(e.id));
    return before - s.entries.length;
  }
  #channels = new Map<string, Set<(message: string) => void>>();
  async publish(channel: string, message: string) {
    const ls = [...(this.#channels.get(this.#prefix + channel) ?? [])];
    // Delivered asynchronously, as Redis does.
    queueMicrotask(() => { for (const l of ls) l(message); });
    return ls.length;
  }
  async subscribe(channel: string, listener: (message: string) => void) {
    const key = this.#prefix + channel;
    const set = this.#channels.get(key) ?? new Set();
    set.add(listener);
    this.#channels.set(key, set);
    return async () => { set.delete(listener); if (set.size === 0) this.#channels.delete(key); };
  }
  async ping() { return !this.#closed; }
  async close() {
    this.#closed = true;
    this.#channels.clear();
    for (const w of [...this.#waiters]) w();
  }
}

/** The stream id right after `id` (same millisecond, next sequence). */
function nextId(id: string): string {
  const [ms, seq] = id.split('-') as [string, string];
  return `${ms}-${Number(seq) + 1}`;
}

function cmpId(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
}
