/**
 * Appointments (R-CA-5) inside the case service: `startAppointments(deps)` applies the
 * `appt_…` migrations to the `cases` schema, starts the reminder / no-show loop and returns the
 * resolvers to merge into the subgraph and the loop to stop with it. Everything it needs beyond
 * the service's Deps has a production default from configuration and can be substituted.
 */
import type { Deps } from '../../../kernel/service.ts';
import { migrate } from '../../../kernel/migrate.ts';
import { createNotifier, type Notifier } from '../../../kernel/notify.ts';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import type { SubgraphContext } from '../../../kernel/subgraph.ts';
import { appointmentMigrations } from './migrations.ts';
import { seedDemoWindows } from './seed.ts';
import { idpApplicantDirectory, type ApplicantDirectory } from './directory.ts';
import type { AppointmentDeps } from './deps.ts';
import type { WorkingDays } from './working-days.ts';
import { loadCalendar } from '../../../kernel/calendar.ts';
import { startScheduler, type Scheduler } from './scheduler.ts';
import { appointmentResolvers, mergeResolvers } from './resolvers.ts';

export interface AppointmentOptions {
  /** Working-day calendar (default: the case service's national holiday calendar, R-CA-8, with CASE_HOLIDAYS_FILE). */
  days?: WorkingDays;
  directory?: ApplicantDirectory;
  notifier?: Notifier;
  /** Scheduler interval; default APPOINTMENT_SCAN_MS. */
  scanMs?: number;
  /** Seed the demo windows and calendars (SEED_DEMO). */
  seed?: boolean;
}

export interface Appointments {
  resolvers: GraphQLResolverMap<SubgraphContext>;
  scheduler: Scheduler;
  deps: AppointmentDeps;
}

export const APPOINTMENT_SCHEMA = 'cases';

export async function startAppointments(deps: Deps, options: AppointmentOptions = {}): Promise<Appointments> {
  await migrate(deps.db, APPOINTMENT_SCHEMA, appointmentMigrations);
  if (options.seed) await seedDemoWindows(deps.db, deps.clock.now());
  const d: AppointmentDeps = {
    db: deps.db, clock: deps.clock, log: deps.log,
    days: options.days ?? loadCalendar(deps.config.CASE_HOLIDAYS_FILE),
    directory: options.directory ?? idpApplicantDirectory({ baseUrl: deps.config.IDP_INTERNAL_URL, key: deps.internalKey, clock: deps.clock }),
    notifier: options.notifier ?? createNotifier(deps.config, deps.log, deps.clock),
    idKey: deps.internalKey,
    reminderTime: deps.config.APPOINTMENT_REMINDER_TIME,
    suspendDays: deps.config.APPOINTMENT_SUSPEND_DAYS,
  };
  const scheduler = startScheduler(d, options.scanMs ?? deps.config.APPOINTMENT_SCAN_MS);
  return { resolvers: appointmentResolvers(d), scheduler, deps: d };
}

export { mergeResolvers };
export type { WorkingDays, ApplicantDirectory, AppointmentDeps };
