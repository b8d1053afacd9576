/**
 * Deadline supervision (R-CA-8): a loop that warns about cases whose deadline is near and, when a
 * case becomes overdue, creates its accountability record automatically. Time is deps.clock, so
 * tests move it. Each record is unique per case, kind, state and deadline, so several replicas
 * (or a rerun after a crash) never record one lapse twice; an extension or a resumed clock moves
 * the deadline, and a lapse of the new deadline is a new record.
 */
import type { Db, Queryable } from '../../../kernel/db.ts';
import type { CaseRecord } from '../repository.ts';
import type { Clock } from '../../../kernel/clock.ts';
import type { Logger } from '../../../kernel/log.ts';
import { CASE_SCHEMA as S } from '../migrations.ts';
import type { WorkingCalendar } from '../../../kernel/calendar.ts';

/**
 * R-CA-8: the lapse of a running clock, recorded when the case is acted on (finished, paused,
 * resumed, extended …) rather than left to the next scan: a case that lapsed and was finished
 * between two scans still gets its accountability record, and does not count as on time. Same
 * key as the scan (case, kind, state, deadline), so one lapse is recorded at most once.
 */
export async function recordLapse(q: Queryable, c: CaseRecord, now: Date): Promise<boolean> {
  if (c.finishedAt !== null || c.pausedAt !== null || c.deadlineAt === null || now.getTime() <= Date.parse(c.deadlineAt)) return false;
  const { rowCount } = await q.query(
    `insert into ${S}.case_alerts (case_id, agency_code, kind, state, deadline_at, at) values ($1, $2, 'overdue', $3, $4, $5)
     on conflict do nothing`, [c.id, c.agencyCode, c.clockState ?? '', c.deadlineAt, now]);
  return (rowCount ?? 0) > 0;
}

export interface ScanResult { warned: string[]; overdue: string[] }

/** One pass: warn (≤ warnDays working days left), then record overdue cases (deadline passed). */
export async function scanDeadlines(db: Db, calendar: WorkingCalendar, warnDays: number, now: Date): Promise<ScanResult> {
  return db.tx(async (q) => {
    const threshold = calendar.addWorkingDays(now, warnDays);
    const warned = await q.query<{ case_id: string }>(
      `with due as (
         update ${S}.cases set warned_at = $1
         where finished_at is null and paused_at is null and warned_at is null and deadline_at is not null
           and deadline_at >= $1 and deadline_at <= $2
         returning id, agency_code, clock_state, deadline_at)
       insert into ${S}.case_alerts (case_id, agency_code, kind, state, deadline_at, at)
       select id, agency_code, 'warning', coalesce(clock_state, ''), deadline_at, $1 from due
       on conflict do nothing returning case_id`, [now, threshold]);
    const overdue = await q.query<{ case_id: string }>(
      `insert into ${S}.case_alerts (case_id, agency_code, kind, state, deadline_at, at)
       select id, agency_code, 'overdue', coalesce(clock_state, ''), deadline_at, $1 from ${S}.cases
       where finished_at is null and paused_at is null and deadline_at is not null and deadline_at < $1
       on conflict do nothing returning case_id`, [now]);
    return { warned: warned.rows.map((r) => r.case_id), overdue: overdue.rows.map((r) => r.case_id) };
  });
}

export interface DeadlineWatcher {
  /** Run one pass now (tests call this after moving the clock). */
  tick(): Promise<ScanResult>;
  poke(): void;
  stop(): Promise<void>;
}

export function startDeadlineWatcher(o: { db: Db; clock: Clock; calendar: WorkingCalendar; warnDays: number; intervalMs: number; log: Logger }): DeadlineWatcher {
  let stopped = false;
  let running: Promise<ScanResult> | null = null;
  const tick = () => {
    running ??= scanDeadlines(o.db, o.calendar, o.warnDays, o.clock.now()).then((r) => {
      if (r.overdue.length) o.log.warn({ cases: r.overdue.length }, 'overdue cases: accountability records created (R-CA-8)');
      return r;
    }).finally(() => { running = null; });
    return running;
  };
  const loop = () => {
    if (stopped) return;
    tick().catch((e: unknown) => o.log.error({ err: e }, 'deadline scan failed')).finally(() => {
      if (!stopped) timer = setTimeout(loop, o.intervalMs);
    });
  };
  let timer: NodeJS.Timeout = setTimeout(loop, o.intervalMs);
  return {
    tick,
    poke: () => void tick().catch(() => undefined),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
