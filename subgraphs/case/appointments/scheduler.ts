/**
 * The appointment loop: every interval (APPOINTMENT_SCAN_MS) it records no-shows for slots that
 * ended without a check-in, closes tickets left over from earlier days, and sends due reminders.
 * All times come from deps.clock, so tests move a clock and watch the loop act. Safe to run on
 * several replicas (see no-shows.ts and reminders.ts).
 */
import type { AppointmentDeps } from './deps.ts';
import { closeStaleTickets, sweepMissed } from './no-shows.ts';
import { sendDueReminders } from './reminders.ts';

export interface Scheduler {
  /** One pass now (also what each tick does). */
  runOnce(): Promise<{ noShows: number; closedTickets: number; reminders: number }>;
  poke(): void;
  stop(): Promise<void>;
}

export function startScheduler(d: AppointmentDeps, intervalMs: number): Scheduler {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  const runOnce = async () => ({
    noShows: await sweepMissed(d),
    closedTickets: await closeStaleTickets(d),
    reminders: await sendDueReminders(d),
  });
  const tick = () => {
    timer = undefined;
    if (stopped) return;
    running = runOnce()
      .catch((e: unknown) => d.log.error({ err: e }, 'appointment scheduler pass failed'))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, intervalMs);
  return {
    runOnce,
    poke() {
      if (timer && !running) {
        clearTimeout(timer);
        timer = setTimeout(tick, 0);
      }
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
