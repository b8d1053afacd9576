/**
 * Events between services: transactional outbox → Redis Streams → consumer groups.
 *
 * - `enqueueEvent(q, schema, …)` writes the event in the same transaction as the change it
 *   announces, so a committed change always has its event and a rolled-back one never does.
 * - `startOutboxRelay` publishes unpublished rows to the stream (FOR UPDATE SKIP LOCKED, so
 *   several relays may run). A crash between XADD and marking the row publishes it again:
 *   delivery is at least once.
 * - `startConsumer` reads with a consumer group, and records the event id in the consumer's
 *   `processed_events` table in the same transaction as the handler's writes, so a redelivered
 *   event is acknowledged without running twice (exactly-once effect). Messages left pending by a
 *   crashed consumer are claimed after `claimIdleMs`. Events of different cases are handled
 *   side by side (`concurrency`), those of one case in order; one that keeps failing is set aside
 *   on a dead-letter stream after `maxAttempts`.
 * - Redis losing its data (a restart without persistence) stops nothing: a consumer whose read
 *   fails recreates its group and stream, and the relay, finding its marker of a stream gone,
 *   publishes again every event it had published there that no consumer group acknowledged
 *   (outbox.stream_id, outbox.acked_at). `healthy()` of each loop feeds /healthz.
 */
import { randomUUID } from 'node:crypto';
import type { Cache, StreamMessage } from './cache.ts';
import type { Db, Queryable } from './db.ts';
import type { Logger } from './log.ts';
import type { Clock } from './clock.ts';
import { AppError, type ErrorCode } from './errors.ts';

export interface DomainEvent<P = Record<string, unknown>> {
  id: string;
  type: string;
  occurredAt: string;
  payload: P;
}

/**
 * The relay's own key for each stream it publishes to. Redis loses it together with the streams
 * (a restart without persistence, an operator deleting keys); finding it gone, the relay puts
 * every event of that stream that was published but not yet acknowledged back in the queue.
 */
export const streamMarkerKey = (stream: string): string => `events:relay:${stream}`;

/**
 * Migration for a service whose outbox relay tracks acknowledgement: the stream entry id each
 * event got, and when every consumer group had acknowledged it. Rows published before this
 * migration count as acknowledged.
 */
export const EVENT_ACK_SQL = `
alter table outbox add column if not exists stream_id text, add column if not exists acked_at timestamptz;
update outbox set acked_at = published_at where published_at is not null and acked_at is null;
create index if not exists outbox_unacked on outbox (stream) where published_at is not null and acked_at is null;
`;

/** SQL for a service's migrations: its outbox (with acknowledgement tracking) and its consumer's processed-event ledger. */
export const EVENT_TABLES_SQL = `
create table outbox (
  id uuid primary key,
  stream text not null,
  type text not null,
  payload jsonb not null,
  created_at timestamptz not null default now(),
  published_at timestamptz
);
create index outbox_unpublished on outbox (created_at) where published_at is null;
create table processed_events (
  consumer text not null,
  event_id uuid not null,
  processed_at timestamptz not null default now(),
  primary key (consumer, event_id)
);
${EVENT_ACK_SQL}`;

export async function enqueueEvent(q: Queryable, schema: string, stream: string, type: string, payload: Record<string, unknown>, now: Date): Promise<string> {
  const id = randomUUID();
  await q.query(`insert into ${schema}.outbox (id, stream, type, payload, created_at) values ($1, $2, $3, $4, $5)`,
    [id, stream, type, JSON.stringify(payload), now]);
  return id;
}

export interface Runner {
  /** Wake the loop now instead of at its next tick. */
  poke(): void;
  stop(): Promise<void>;
  /** False while the loop cannot do its work (a consumer that cannot read, a relay that cannot publish). */
  healthy?(): boolean;
}

export interface RelayOptions {
  db: Db;
  cache: Cache;
  schema: string;
  log: Logger;
  clock: Clock;
  intervalMs?: number;
  batch?: number;
  /** How often the relay records which published events every consumer group has acknowledged (default 1 s). */
  ackCheckMs?: number;
}

/** Order of two stream entry ids (`<ms>-<seq>`). */
function cmpStreamId(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
}

/** Delay before the next attempt after `failures` failures in a row: doubling from `baseMs`, at most 5 s. */
export const backoffMs = (failures: number, baseMs = 250): number => Math.min(5000, baseMs * 2 ** Math.max(0, Math.min(failures - 1, 10)));

/**
 * Publishes the outbox. Besides sending unpublished rows, it keeps the outbox honest about Redis:
 * - each published row keeps its stream entry id, and every `ackCheckMs` the rows below the
 *   stream's acknowledgement floor (see Cache.xAckFloor) are marked acknowledged;
 * - before publishing, it checks its marker for each stream (streamMarkerKey): when Redis has
 *   lost the stream, every row published there but not acknowledged is published again. Consumers
 *   are idempotent (processed_events), so an event that had been handled is only acknowledged.
 * Failures (Redis or the database unreachable) are retried with backoff; `healthy()` is false
 * until a flush succeeds again.
 */
export function startOutboxRelay(o: RelayOptions): Runner & { flush(): Promise<number>; healthy(): boolean } {
  const interval = o.intervalMs ?? 250;
  const batch = o.batch ?? 100;
  const ackCheckMs = o.ackCheckMs ?? 1000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let again = false;
  let failures = 0;
  let lastAckCheck = 0;
  /** Streams with rows published by this outbox that may need publishing again; loaded on the first flush. */
  let known: Set<string> | undefined;

  /** flushOnce's answer when it met a stream whose marker has not been checked yet. */
  const UNCHECKED_STREAMS = -1;

  /** Put back in the queue what was published on `streams` and not acknowledged, where Redis lost the stream. */
  const recover = async (q: Queryable, streams: Iterable<string>): Promise<void> => {
    const list = [...streams];
    const markers = await Promise.all(list.map((stream) => o.cache.get(streamMarkerKey(stream))));
    for (const [i, stream] of list.entries()) {
      if (markers[i] !== null) continue;
      const { rowCount } = await q.query(
        `update ${o.schema}.outbox set published_at = null, stream_id = null where stream = $1 and published_at is not null and acked_at is null`, [stream]);
      await o.cache.set(streamMarkerKey(stream), o.clock.now().toISOString());
      if (rowCount > 0) o.log.warn({ stream, events: rowCount }, 'stream lost from Redis; publishing its unacknowledged events again');
    }
  };

  const flushOnce = () => o.db.tx(async (q) => {
    const { rows } = await q.query<{ id: string; stream: string; type: string; payload: unknown; created_at: Date }>(
      `select id, stream, type, payload, created_at from ${o.schema}.outbox where published_at is null
       order by created_at limit ${batch} for update skip locked`);
    // A stream this relay has not checked yet: publish nothing now (the rows are unlocked at
    // commit); the caller checks its marker first, outside any transaction, and comes back.
    const fresh = [...new Set(rows.map((r) => r.stream))].filter((s) => !known!.has(s));
    if (fresh.length) {
      for (const s of fresh) known!.add(s);
      return UNCHECKED_STREAMS;
    }
    const streamIds: string[] = [];
    for (const r of rows) {
      streamIds.push(await o.cache.xAdd(r.stream, {
        id: r.id, type: r.type, occurredAt: new Date(r.created_at).toISOString(),
        payload: typeof r.payload === 'string' ? r.payload : JSON.stringify(r.payload),
      }));
    }
    if (rows.length) {
      await q.query(`update ${o.schema}.outbox o set published_at = $3, stream_id = v.stream_id
        from unnest($1::uuid[], $2::text[]) as v(id, stream_id) where o.id = v.id`, [rows.map((r) => r.id), streamIds, o.clock.now()]);
    }
    return rows.length;
  });

  /**
   * Mark acknowledged every published row below its stream's acknowledgement floor. Entry ids
   * grow with time, so a floor read from a stream Redis has recreated since would cover rows that
   * were lost with the old one: the marker is read after the floor, and a stream without it is
   * left alone (the next flush publishes its rows again). A marker present means that any loss
   * before the floor was read has been recovered from, its rows already back in the queue.
   */
  const settle = async (): Promise<void> => {
    for (const stream of known!) {
      const floor = await o.cache.xAckFloor(stream);
      if (!floor || await o.cache.get(streamMarkerKey(stream)) === null) continue;
      // A stream lost while its marker stayed (keys deleted one by one, an eviction): its oldest
      // unacknowledged entry is older than the stream's first (streams are never trimmed here).
      const oldest = (await o.db.query<{ stream_id: string }>(`select stream_id from ${o.schema}.outbox
        where stream = $1 and published_at is not null and acked_at is null and stream_id is not null
        order by split_part(stream_id, '-', 1)::bigint, split_part(stream_id, '-', 2)::bigint limit 1`, [stream])).rows[0];
      if (oldest) {
        const [first] = await o.cache.xRange(stream, 1);
        if (!first || cmpStreamId(oldest.stream_id, first.id) < 0) {
          const { rowCount } = await o.db.query(
            `update ${o.schema}.outbox set published_at = null, stream_id = null where stream = $1 and published_at is not null and acked_at is null`, [stream]);
          if (rowCount > 0) o.log.warn({ stream, events: rowCount }, 'stream entries lost from Redis; publishing its unacknowledged events again');
          again = true;
          continue;
        }
      }
      const [ms, seq] = floor.split('-');
      await o.db.query(`update ${o.schema}.outbox set acked_at = $4 where stream = $1 and published_at is not null and acked_at is null
        and (split_part(stream_id, '-', 1)::bigint, split_part(stream_id, '-', 2)::bigint) < ($2::bigint, $3::bigint)`, [stream, ms, seq, o.clock.now()]);
    }
  };

  const flush = async (): Promise<number> => {
    if (running) { again = true; return running; }
    running = (async () => {
      let total = 0;
      try {
        if (!known) {
          const { rows } = await o.db.query<{ stream: string }>(`select distinct stream from ${o.schema}.outbox where published_at is not null and acked_at is null`);
          known = new Set(rows.map((r) => r.stream));
        }
        if (known.size) await recover(o.db, known);
        do {
          again = false;
          let n: number;
          do {
            n = await flushOnce();
            if (n === UNCHECKED_STREAMS) {
              await recover(o.db, known);
              n = batch; // and again
              continue;
            }
            total += n;
          } while (n === batch && !stopped);
        } while (again && !stopped);
        if (Date.now() - lastAckCheck >= ackCheckMs) {
          lastAckCheck = Date.now();
          await settle();
        }
        failures = 0;
      } catch (e) {
        failures++;
        if (!stopped) o.log.error({ err: e, failures }, 'outbox relay failed; will retry');
      } finally {
        running = undefined;
      }
      return total;
    })();
    return running;
  };
  const tick = () => {
    if (stopped) return;
    void flush().finally(() => { if (!stopped) timer = setTimeout(tick, failures ? backoffMs(failures, interval) : interval); });
  };
  timer = setTimeout(tick, 0);
  return {
    flush,
    poke: () => { void flush(); },
    healthy: () => failures === 0,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

export interface ConsumerOptions<P = undefined> {
  db: Db;
  cache: Cache;
  /** Schema holding this consumer's processed_events table. */
  schema: string;
  stream: string;
  group: string;
  consumer?: string;
  log: Logger;
  /**
   * Which events this consumer acts on. The others are acknowledged without touching the
   * database (no ledger row, no transaction): a stream carries every event of its service and
   * most consumers want a few types. Default: every event.
   */
  wants?: (event: DomainEvent) => boolean;
  /**
   * Work to do before the transaction, outside it: calls to other services (an HTTP call must
   * not hold a database transaction open, and on the embedded set-up, where every service shares
   * one single-connection PGlite, it would deadlock). Skipped for an event already processed.
   * Throwing leaves the event pending, to be retried.
   */
  prepare?: (event: DomainEvent) => Promise<P>;
  /** Runs inside the transaction that records the event as processed; gets what prepare returned. */
  handle(event: DomainEvent, q: Queryable, prepared: P): Promise<void>;
  /** Called after a transaction that handled an event commits (e.g. to poke an outbox relay). */
  afterCommit?: () => void;
  /**
   * Events handled at once (default 1). Events with the same `orderKey` are still handled one
   * after the other in stream order; different keys overlap, so the commits (an fsync each) and
   * the calls in `prepare` run side by side instead of queueing.
   */
  concurrency?: number;
  /** Events sharing a key keep their order. Default: the payload's caseId, else its licenceId, else its id, else the event id. */
  orderKey?: (event: DomainEvent) => string;
  /**
   * Attempts before an event that keeps failing is set aside on `<stream>.dead` (with the group,
   * the error and the attempts) and acknowledged, so one poisoned event does not hold its group
   * forever. Default 20 (with claimIdleMs 30 s, some ten minutes of failing). Attempts are counted in the cache, so every instance of the group agrees.
   */
  maxAttempts?: number;
  /**
   * Failures that mean "not yet" rather than "never": the event is retried like any other but the
   * attempt is not counted, so it waits as long as it takes instead of being set aside (an
   * unreachable service, a seal not installed yet). Default: SERVICE_UNAVAILABLE and network errors.
   */
  notYet?: (error: unknown) => boolean;
  blockMs?: number;
  claimIdleMs?: number;
}

/** A failure that should not count toward maxAttempts: an AppError with one of `codes`, or the network. */
export function failedForNow(error: unknown, codes: readonly ErrorCode[] = ['SERVICE_UNAVAILABLE']): boolean {
  if (error instanceof AppError) return codes.includes(error.code);
  const e = error as { name?: string; message?: string; cause?: { code?: string } } | null;
  // fetch: TypeError('fetch failed') with the socket error as cause; AbortSignal.timeout: TimeoutError.
  return e?.name === 'TimeoutError' || (e?.name === 'TypeError' && e.message === 'fetch failed')
    || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN'].includes(e?.cause?.code ?? '');
}

/** Where a group's poisoned events go (see ConsumerOptions.maxAttempts). */
export const deadLetterStream = (stream: string): string => `${stream}.dead`;
/** Cache key counting a group's failed attempts at an event. */
export const attemptsKey = (group: string, eventId: string): string => `events:attempts:${group}:${eventId}`;
/** Fields the dead-letter stream adds to the original event's. */
export const DEAD_LETTER_FIELDS = ['group', 'attempts', 'error', 'failedAt'] as const;

const defaultOrderKey = (e: DomainEvent): string => {
  const p = e.payload as { caseId?: unknown; licenceId?: unknown; id?: unknown };
  for (const k of [p.caseId, p.licenceId, p.id]) if (typeof k === 'string' && k) return k;
  return e.id;
};

function toEvent(m: StreamMessage): DomainEvent {
  let payload: Record<string, unknown> = {};
  try { payload = JSON.parse(m.fields.payload ?? '{}') as Record<string, unknown>; } catch { /* left empty: the handler refuses it */ }
  return { id: m.fields.id ?? '', type: m.fields.type ?? '', occurredAt: m.fields.occurredAt ?? '', payload };
}

export async function startConsumer<P = undefined>(o: ConsumerOptions<P>): Promise<Runner> {
  const consumer = o.consumer ?? `${o.group}-${randomUUID().slice(0, 8)}`;
  const blockMs = o.blockMs ?? 1000;
  const claimIdleMs = o.claimIdleMs ?? 30_000;
  const concurrency = Math.max(1, o.concurrency ?? 1);
  const maxAttempts = Math.max(1, o.maxAttempts ?? 20);
  const orderKey = o.orderKey ?? defaultOrderKey;
  const notYet = o.notYet ?? ((e: unknown) => failedForNow(e));
  /**
   * Keys with a failed event not yet handled, and until when: their later events are left pending
   * (not handled, not acknowledged) so that they come back with it, in order, when it is claimed
   * again. The hold lapses after two claim periods in case another instance claimed it.
   */
  const held = new Map<string, { until: number; by: string }>();
  await o.cache.xGroupCreate(o.stream, o.group);
  let stopped = false;
  let lastClaim = 0;
  /** Health: false from a failed read until a read succeeds again. */
  let readable = true;
  let regroup = false;
  let failures = 0;

  /** True when the message may be acknowledged: handled now, handled before, not wanted, or set aside. */
  const process1 = async (m: StreamMessage, event: DomainEvent): Promise<boolean> => {
    if (o.wants && !o.wants(event)) return true;
    try {
      let prepared = undefined as P;
      if (o.prepare) {
        const done = await o.db.query(`select 1 from ${o.schema}.processed_events where consumer = $1 and event_id = $2`, [o.group, event.id]);
        if (done.rowCount === 0) prepared = await o.prepare(event);
      }
      const ran = await o.db.tx(async (q) => {
        const fresh = await q.query(`insert into ${o.schema}.processed_events (consumer, event_id) values ($1, $2) on conflict do nothing`, [o.group, event.id]);
        if (fresh.rowCount === 0) return false;
        await o.handle(event, q, prepared);
        return true;
      });
      if (ran) o.afterCommit?.();
      return true;
    } catch (e) {
      if (stopped) return false;
      if (notYet(e)) {
        o.log.warn({ err: e, eventId: event.id, type: event.type }, 'event cannot be handled yet; will retry');
        return false;
      }
      try {
        const attempts = await o.cache.incr(attemptsKey(o.group, event.id), 7 * 24 * 3600);
        if (attempts >= maxAttempts) {
          // Set aside: kept whole on the dead-letter stream for an operator to inspect and replay.
          await o.cache.xAdd(deadLetterStream(o.stream), {
            ...m.fields, group: o.group, attempts: String(attempts), error: String((e as Error)?.message ?? e).slice(0, 500), failedAt: new Date().toISOString(),
          });
          o.log.error({ err: e, eventId: event.id, type: event.type, attempts }, 'event keeps failing; set aside on the dead-letter stream');
          return true;
        }
        o.log.error({ err: e, eventId: event.id, type: event.type, attempts }, 'event handler failed; will retry');
      } catch (counting) {
        o.log.error({ err: e, eventId: event.id, type: event.type, countingError: counting }, 'event handler failed; will retry');
      }
      // Left pending: claimed again after claimIdleMs (by this or another consumer).
      return false;
    }
  };

  /** Handle a batch: one lane per order key, at most `concurrency` lanes at once; then one XACK. */
  const processBatch = async (msgs: StreamMessage[]): Promise<void> => {
    const lanes = new Map<string, Array<{ m: StreamMessage; event: DomainEvent }>>();
    for (const m of msgs) {
      const event = toEvent(m);
      const key = orderKey(event);
      const lane = lanes.get(key);
      if (lane) lane.push({ m, event }); else lanes.set(key, [{ m, event }]);
    }
    const queue = [...lanes.entries()];
    const acked: string[] = [];
    const now = Date.now();
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [key, lane] = next;
        for (const { m, event } of lane) {
          if (stopped) return;
          // Behind a failed event of the same key (in this batch or an earlier one): left pending,
          // to come back after it. The failed event itself, when claimed again, goes through.
          const hold = held.get(key);
          const holding = hold !== undefined && hold.until > now;
          if (holding && m.id !== hold.by) break;
          if (!(await process1(m, event))) {
            if (!holding) held.set(key, { until: now + 2 * claimIdleMs + 5000, by: m.id });
            break;
          }
          if (hold?.by === m.id) held.delete(key);
          acked.push(m.id);
        }
      }
    };
    // Settled, not raced: the next batch starts only when every lane of this one has finished.
    await Promise.allSettled(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    for (const [key, hold] of held) if (hold.until <= now) held.delete(key);
    await o.cache.xAck(o.stream, o.group, ...acked);
  };

  const loop = (async () => {
    while (!stopped) {
      try {
        if (regroup) {
          await o.cache.xGroupCreate(o.stream, o.group);
          regroup = false;
        }
        if (Date.now() - lastClaim >= Math.min(claimIdleMs, 5000)) {
          lastClaim = Date.now();
          await processBatch(await o.cache.xAutoClaim(o.stream, o.group, consumer, claimIdleMs, 50));
        }
        const msgs = await o.cache.xReadGroup(o.stream, o.group, consumer, { count: Math.max(50, concurrency * 4), blockMs });
        if (!stopped && msgs.length) await processBatch(msgs);
        readable = true;
        failures = 0;
      } catch (e) {
        if (stopped) break;
        // The group or the whole stream may be gone (NOGROUP: Redis lost its data). Create them
        // again before the next read: from the start of the stream, so what the outbox relays
        // publish again is read; events already handled are only acknowledged (processed_events).
        readable = false;
        regroup = true;
        failures++;
        o.log.error({ err: e, stream: o.stream, group: o.group, failures }, 'stream read failed; recreating the group and retrying');
        await new Promise((r) => setTimeout(r, backoffMs(failures)));
      }
    }
  })();
  return {
    poke: () => undefined,
    healthy: () => readable,
    async stop() {
      stopped = true;
      await Promise.race([loop, new Promise((r) => setTimeout(r, blockMs + 200))]);
    },
  };
}
