/**
 * Who may do what with appointments, in one table (R-CA-5, R-CA-7). Staff act only within their
 * own agency (kernel/internal-auth.ts requireStaffRole). Defining windows, hours and capacities is
 * a decision of the agency, so it needs the decider role; the hall floor (the kiosk's account,
 * calling and finishing tickets) is the receiver's (收件) work.
 */
import { requireStaffRole, type Caller, type StaffRole } from '../../../kernel/internal-auth.ts';

export const APPOINTMENT_ROLES = {
  defineWindow: 'decider',
  defineCalendar: 'decider',
  kioskCheckIn: 'receiver',
  takeWalkInTicket: 'receiver',
  callNext: 'receiver',
  finishTicket: 'receiver',
  viewQueue: 'receiver',
} as const satisfies Record<string, StaffRole>;

export type AppointmentAction = keyof typeof APPOINTMENT_ROLES;

export function requireHallStaff(caller: Caller, agency: string, action: AppointmentAction) {
  return requireStaffRole(caller, agency, APPOINTMENT_ROLES[action]);
}

/** The caller's own agency when staff (to scope a staff action before the object is known). */
export function staffAgency(caller: Caller): string {
  return caller.kind === 'staff' ? caller.agency : '';
}
