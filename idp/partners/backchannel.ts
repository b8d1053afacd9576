/**
 * Back-channel logout deliveries (OIDC Back-Channel Logout 1.0) that do not get through are not
 * forgotten: oidc-provider tries each partner once when a session ends and emits
 * `backchannel.error` on failure; here every failure is logged (client, attempt, reason: never the
 * logout token) and stored, and a loop retries it with backoff (a fresh logout token each time:
 * oidc-provider's Client#backchannelLogout) until delivered or EVERY attempt is spent, when it is
 * marked failed and logged as an error. Rows are claimed with FOR UPDATE SKIP LOCKED, so several
 * IdP replicas never deliver one retry twice. Outbound calls obey the network policy
 * (kernel/outbound.ts): a URI on an address the IdP may not reach was already refused when the
 * partner registered.
 */
import type { Provider } from 'oidc-provider';
import type { Clock } from '../../kernel/clock.ts';
import type { Db } from '../../kernel/db.ts';
import type { Logger } from '../../kernel/log.ts';

/** Seconds to wait before retry n (1-based), then the last value again. */
export const BACKOFF_SECONDS = [10, 60, 300, 1800, 7200];

const reason = (err: unknown) => String((err as Error)?.message ?? err).slice(0, 300);

export interface DeliveryCounts { pending: number; delivered: number; failed: number; lastError: string | null }

export interface BackchannelDelivery {
  /** One pass over the due retries; returns how many were attempted. */
  tick(): Promise<number>;
  /** A pass now (an operator's request): the due retries, or with `all` every pending one. */
  retryNow(all: boolean): Promise<number>;
  counts(clientId: string): Promise<DeliveryCounts>;
  stop(): Promise<void>;
}

interface Due { id: string; client_id: string; account_id: string; sid: string | null; attempts: number }

export function startBackchannelDelivery(o: { provider: Provider; db: Db; clock: Clock; log: Logger; maxAttempts: number; intervalMs: number }): BackchannelDelivery {
  const { provider, db, clock, log } = o;
  const nextAt = (attempts: number) => new Date(clock.now().getTime() + 1000 * BACKOFF_SECONDS[Math.min(attempts - 1, BACKOFF_SECONDS.length - 1)]!);

  provider.on('backchannel.error', (_ctx: unknown, err: unknown, client: { clientId: string }, accountId: string, sid: string) => {
    log.warn({ clientId: client.clientId, attempt: 1, reason: reason(err) }, 'back-channel logout delivery failed; will retry');
    const now = clock.now();
    const exhausted = o.maxAttempts <= 1;
    db.query(
      `insert into idp.backchannel_deliveries (client_id, account_id, sid, state, attempts, next_at, last_error, created_at, updated_at)
       values ($1, $2, $3, $4, 1, $5, $6, $7, $7)`,
      [client.clientId, accountId, sid ?? null, exhausted ? 'failed' : 'pending', exhausted ? null : nextAt(1), reason(err), now],
    ).catch((e: unknown) => log.error({ err: e, clientId: client.clientId }, 'back-channel logout failure could not be recorded'));
  });
  provider.on('backchannel.success', (_ctx: unknown, client: { clientId: string }) => {
    log.debug({ clientId: client.clientId }, 'back-channel logout delivered');
  });

  async function tick(): Promise<number> {
    let done = 0;
    for (;;) {
      const handled = await db.tx(async (q) => {
        const { rows } = await q.query<Due>(
          `select id::text, client_id, account_id, sid, attempts from idp.backchannel_deliveries
           where state = 'pending' and next_at <= $1 order by next_at limit 1 for update skip locked`, [clock.now()]);
        const d = rows[0];
        if (!d) return false;
        const attempt = d.attempts + 1;
        try {
          const client = await provider.Client.find(d.client_id) as unknown as { backchannelLogoutUri?: string; backchannelLogout(sub: string, sid?: string): Promise<void> } | undefined;
          if (!client?.backchannelLogoutUri) throw new Error('the client no longer has a back-channel logout URI');
          await client.backchannelLogout(d.account_id, d.sid ?? undefined);
          await q.query(`update idp.backchannel_deliveries set state = 'delivered', attempts = $2, next_at = null, updated_at = $3 where id = $1`, [d.id, attempt, clock.now()]);
          log.info({ clientId: d.client_id, attempt }, 'back-channel logout delivered on retry');
        } catch (err) {
          const failed = attempt >= o.maxAttempts;
          await q.query(
            `update idp.backchannel_deliveries set state = $2, attempts = $3, next_at = $4, last_error = $5, updated_at = $6 where id = $1`,
            [d.id, failed ? 'failed' : 'pending', attempt, failed ? null : nextAt(attempt), reason(err), clock.now()]);
          if (failed) log.error({ clientId: d.client_id, attempt, reason: reason(err) }, 'back-channel logout given up');
          else log.warn({ clientId: d.client_id, attempt, reason: reason(err) }, 'back-channel logout delivery failed; will retry');
        }
        return true;
      });
      if (!handled) return done;
      done++;
    }
  }

  let stopped = false;
  let running: Promise<unknown> | null = null;
  const loop = () => {
    if (stopped) return;
    running = tick().catch((e: unknown) => log.error({ err: e }, 'back-channel retry pass failed')).finally(() => {
      running = null;
      if (!stopped) timer = setTimeout(loop, o.intervalMs);
    });
  };
  let timer: NodeJS.Timeout = setTimeout(loop, o.intervalMs);

  return {
    tick,
    async retryNow(all) {
      if (all) await db.query(`update idp.backchannel_deliveries set next_at = $1 where state = 'pending'`, [clock.now()]);
      return tick();
    },
    async counts(clientId) {
      const { rows } = await db.query<{ pending: number; delivered: number; failed: number; last_error: string | null }>(
        `select count(*) filter (where state = 'pending')::int as pending, count(*) filter (where state = 'delivered')::int as delivered,
           count(*) filter (where state = 'failed')::int as failed,
           (select last_error from idp.backchannel_deliveries where client_id = $1 order by updated_at desc limit 1) as last_error
         from idp.backchannel_deliveries where client_id = $1`, [clientId]);
      const r = rows[0]!;
      return { pending: r.pending, delivered: r.delivered, failed: r.failed, lastError: r.last_error };
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
