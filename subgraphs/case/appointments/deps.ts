/** Everything the appointment code depends on, passed in (tests substitute each part). */
import { createHmac, type KeyObject } from 'node:crypto';
import type { Db } from '../../../kernel/db.ts';
import type { Clock } from '../../../kernel/clock.ts';
import type { Logger } from '../../../kernel/log.ts';
import type { Notifier } from '../../../kernel/notify.ts';
import type { ApplicantDirectory } from './directory.ts';
import type { WorkingDays } from './working-days.ts';

export interface AppointmentDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  days: WorkingDays;
  directory: ApplicantDirectory;
  notifier: Notifier;
  /** Keys the HMAC that stands in for ID numbers in the appointment tables. */
  idKey: KeyObject;
  /** Local time HH:MM on the day before the appointment from which the reminder goes out. */
  reminderTime: string;
  suspendDays: number;
}

/** The stored stand-in for an ID number: equal numbers give equal hashes; the number is not recoverable. */
export function idHash(key: KeyObject, idNumber: string): string {
  return createHmac('sha256', key).update(`yiwang.appointments.id:${idNumber}`).digest('hex');
}
