/**
 * Supervision of the evaluation service (电子监察): a loop that records an accountability record
 * for every complaint, consultation or suggestion still unanswered past its deadline and every
 * bad-rating follow-up not ended by its deadline (once each: unique per kind and subject, so
 * replicas and reruns never record one lapse twice), and computes the agency rankings when a new
 * period has begun (R-EV-5). Time is the injected clock, so tests move it and call tick().
 */
import type { Clock } from '../../kernel/clock.ts';
import type { Db } from '../../kernel/db.ts';
import type { Logger } from '../../kernel/log.ts';
import { computeRankings } from './rankings.ts';

export interface ScanResult { overdue: string[]; ranked: boolean }

export async function scanOverdue(db: Db, now: Date): Promise<string[]> {
  const { rows } = await db.query<{ subject_id: string }>(
    `with late as (
       select kind, id as subject_id, agency_code, due_at from evaluation.feedback where status = 'OPEN' and due_at < $1
       union all
       select 'RATING_FOLLOW_UP', evaluation_id, agency_code, due_at from evaluation.follow_ups
         where state in ('VERIFYING', 'RECTIFYING') and due_at < $1)
     insert into evaluation.accountability (kind, subject_id, agency_code, due_at, at)
     select kind, subject_id, agency_code, due_at, $1 from late
     on conflict do nothing returning subject_id::text`, [now]);
  return rows.map((r) => r.subject_id);
}

export interface SupervisionLoop {
  tick(): Promise<ScanResult>;
  stop(): Promise<void>;
}

export function startSupervision(o: { db: Db; clock: Clock; log: Logger; intervalMs: number; rankingMinutes: number; rankingWindowDays: number }): SupervisionLoop {
  let stopped = false;
  let running: Promise<ScanResult> | null = null;
  const tick = () => {
    running ??= (async () => {
      const now = o.clock.now();
      const overdue = await scanOverdue(o.db, now);
      if (overdue.length) o.log.warn({ records: overdue.length }, 'evaluation: accountability records for late answers and follow-ups');
      const ranked = await computeRankings(o.db, now, o.rankingMinutes, o.rankingWindowDays);
      if (ranked) o.log.info({ at: now.toISOString() }, 'evaluation: agency rankings computed (R-EV-5)');
      return { overdue, ranked };
    })().finally(() => { running = null; });
    return running;
  };
  const loop = () => {
    if (stopped) return;
    tick().catch((e: unknown) => o.log.error({ err: e }, 'evaluation supervision scan failed')).finally(() => {
      if (!stopped) timer = setTimeout(loop, o.intervalMs);
    });
  };
  let timer: NodeJS.Timeout = setTimeout(loop, 0);
  return {
    tick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
