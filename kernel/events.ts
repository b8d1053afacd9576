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
 *   crashed consumer are claimed after `claimIdleMs`.
 */
import { randomUUID } from 'node:crypto';
import type { Cache, StreamMessage } from './cache.ts';
import type { Db, Queryable } from './db.ts';
import type { Logger } from './log.ts';
import type { Clock } from './clock.ts';

export interface DomainEvent<P = Record<string, unknown>> {
  id: string;
  type: string;
  occurredAt: string;
  payload: P;
}

/** SQL for a service's migrations: its outbox and its consumer's processed-event ledger. */
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
`;

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
}

export interface RelayOptions {
  db: Db;
  cache: Cache;
  schema: string;
  log: Logger;
  clock: Clock;
  intervalMs?: number;
  batch?: number;
}

export function startOutboxRelay(o: RelayOptions): Runner & { flush(): Promise<number> } {
  const interval = o.intervalMs ?? 250;
  const batch = o.batch ?? 100;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let again = false;

  const flushOnce = () => o.db.tx(async (q) => {
    const { rows } = await q.query<{ id: string; stream: string; type: string; payload: unknown; created_at: Date }>(
      `select id, stream, type, payload, created_at from ${o.schema}.outbox where published_at is null
       order by created_at limit ${batch} for update skip locked`);
    for (const r of rows) {
      await o.cache.xAdd(r.stream, {
        id: r.id, type: r.type, occurredAt: new Date(r.created_at).toISOString(),
        payload: typeof r.payload === 'string' ? r.payload : JSON.stringify(r.payload),
      });
    }
    if (rows.length) {
      await q.query(`update ${o.schema}.outbox set published_at = $2 where id = any($1::uuid[])`, [rows.map((r) => r.id), o.clock.now()]);
    }
    return rows.length;
  });

  const flush = async (): Promise<number> => {
    if (running) { again = true; return running; }
    running = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          let n: number;
          do { n = await flushOnce(); total += n; } while (n === batch && !stopped);
        } while (again && !stopped);
      } catch (e) {
        if (!stopped) o.log.error({ err: e }, 'outbox relay failed; will retry');
      } finally {
        running = undefined;
      }
      return total;
    })();
    return running;
  };
  const tick = () => {
    if (stopped) return;
    void flush().finally(() => { if (!stopped) timer = setTimeout(tick, interval); });
  };
  timer = setTimeout(tick, 0);
  return {
    flush,
    poke: () => { void flush(); },
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
  blockMs?: number;
  claimIdleMs?: number;
}

export async function startConsumer<P = undefined>(o: ConsumerOptions<P>): Promise<Runner> {
  const consumer = o.consumer ?? `${o.group}-${randomUUID().slice(0, 8)}`;
  const blockMs = o.blockMs ?? 1000;
  const claimIdleMs = o.claimIdleMs ?? 30_000;
  await o.cache.xGroupCreate(o.stream, o.group);
  let stopped = false;
  let lastClaim = 0;

  const process1 = async (m: StreamMessage): Promise<void> => {
    const event: DomainEvent = {
      id: m.fields.id ?? '', type: m.fields.type ?? '', occurredAt: m.fields.occurredAt ?? '',
      payload: JSON.parse(m.fields.payload ?? '{}') as Record<string, unknown>,
    };
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
      await o.cache.xAck(o.stream, o.group, m.id);
      if (ran) o.afterCommit?.();
    } catch (e) {
      // Left pending: claimed again after claimIdleMs (by this or another consumer).
      o.log.error({ err: e, eventId: event.id, type: event.type, deliveries: m.deliveries }, 'event handler failed; will retry');
    }
  };

  const loop = (async () => {
    while (!stopped) {
      try {
        if (Date.now() - lastClaim >= Math.min(claimIdleMs, 5000)) {
          lastClaim = Date.now();
          for (const m of await o.cache.xAutoClaim(o.stream, o.group, consumer, claimIdleMs, 50)) await process1(m);
        }
        const msgs = await o.cache.xReadGroup(o.stream, o.group, consumer, { count: 50, blockMs });
        for (const m of msgs) {
          if (stopped) break;
          await process1(m);
        }
      } catch (e) {
        if (stopped) break;
        o.log.error({ err: e }, 'stream read failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  })();
  return {
    poke: () => undefined,
    async stop() {
      stopped = true;
      await Promise.race([loop, new Promise((r) => setTimeout(r, blockMs + 200))]);
    },
  };
}
