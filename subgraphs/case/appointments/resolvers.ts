/**
 * Resolvers for the appointments section of schema/case.graphql, built over AppointmentDeps so
 * the case service merges them into its map (mergeResolvers) without sharing its context type.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { AppError } from '../../../kernel/errors.ts';
import { requirePerson } from '../../../kernel/internal-auth.ts';
import type { SubgraphContext } from '../../../kernel/subgraph.ts';
import { book, cancel } from './booking.ts';
import type { AppointmentDeps } from './deps.ts';
import { callNext, finishTicket, kioskCheckIn, takeWalkInTicket, windowQueue } from './queue.ts';
import {
  activeSuspension, findWindow, listByApplicant, listWindows, noShowsIn, ticketForAppointment, toCalendar,
  type Appointment, type Calendar, type Ticket,
} from './repository.ts';
import { staffAgency } from './roles.ts';
import { localMonth } from './time.ts';
import { defineCalendar, defineWindow, openSlots, type CalendarInput, type HallWindowInput, type SlotView } from './windows.ts';

type Ctx = SubgraphContext;
const iso = (t: Date | null) => (t ? t.toISOString() : null);

export function appointmentResolvers(d: AppointmentDeps): GraphQLResolverMap<Ctx> {
  const windowOf = (o: { windowId: string }) => findWindow(d.db, o.windowId);
  return {
    Query: {
      hallWindows: (_: unknown, a: { agencyCode: string }) => listWindows(d.db, a.agencyCode),
      appointmentCalendars: async (_: unknown, __: unknown, ctx: Ctx) => {
        const agency = staffAgency(ctx.caller);
        if (!agency) throw new AppError(ctx.caller.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'ROLE_REQUIRED', '仅限工作人员 / staff only');
        const { rows } = await d.db.query('select * from cases.appointment_calendars where agency_code = $1 order by window_id, item_id', [agency]);
        return rows.map(toCalendar);
      },
      appointmentSlots: (_: unknown, a: { itemId: string; windowId?: string | null }) => openSlots(d, a.itemId, a.windowId),
      myAppointments: (_: unknown, __: unknown, ctx: Ctx) => listByApplicant(d.db, requirePerson(ctx.caller).sub),
      myBookingStanding: async (_: unknown, __: unknown, ctx: Ctx) => {
        const p = requirePerson(ctx.caller);
        const now = d.clock.now();
        const until = await activeSuspension(d.db, p.sub, now);
        return { suspended: Boolean(until), suspendedUntil: iso(until), noShowsThisMonth: await noShowsIn(d.db, p.sub, localMonth(now)) };
      },
      windowQueue: (_: unknown, a: { windowId: string }, ctx: Ctx) => windowQueue(d, ctx.caller, a.windowId),
    },
    Mutation: {
      defineHallWindow: (_: unknown, a: { input: HallWindowInput }, ctx: Ctx) => defineWindow(d, ctx.caller, a.input),
      defineAppointmentCalendar: (_: unknown, a: { input: CalendarInput }, ctx: Ctx) => defineCalendar(d, ctx.caller, a.input),
      bookAppointment: (_: unknown, a: { windowId: string; itemId: string; date: string; start: string }, ctx: Ctx) => book(d, ctx.caller, a),
      cancelAppointment: (_: unknown, a: { id: string }, ctx: Ctx) => cancel(d, ctx.caller, a.id),
      kioskCheckIn: (_: unknown, a: { idNumber: string }, ctx: Ctx) => kioskCheckIn(d, ctx.caller, a.idNumber),
      takeWalkInTicket: (_: unknown, a: { windowId: string }, ctx: Ctx) => takeWalkInTicket(d, ctx.caller, a.windowId),
      callNextTicket: (_: unknown, a: { windowId: string }, ctx: Ctx) => callNext(d, ctx.caller, a.windowId),
      finishTicket: (_: unknown, a: { id: string; served: boolean }, ctx: Ctx) => finishTicket(d, ctx.caller, a.id, a.served),
    },
    AppointmentCalendar: {
      window: windowOf,
      item: (c: Calendar) => ({ __typename: 'Item', id: c.itemId }),
    },
    AppointmentSlot: {
      window: windowOf,
      item: (s: SlotView) => ({ __typename: 'Item', id: s.itemId }),
    },
    Appointment: {
      item: (a: Appointment) => ({ __typename: 'Item', id: a.itemId }),
      window: windowOf,
      idNumberMasked: (a: Appointment) => a.idMasked,
      bookedAt: (a: Appointment) => a.bookedAt.toISOString(),
      cancelledAt: (a: Appointment) => iso(a.cancelledAt),
      checkedInAt: (a: Appointment) => iso(a.checkedInAt),
      remindedAt: (a: Appointment) => iso(a.remindedAt),
      ticket: (a: Appointment) => ticketForAppointment(d.db, a.id),
    },
    QueueTicket: {
      window: windowOf,
      issuedAt: (t: Ticket) => t.issuedAt.toISOString(),
      calledAt: (t: Ticket) => iso(t.calledAt),
      priorityFrom: (t: Ticket) => iso(t.priorityFrom),
    },
  } as GraphQLResolverMap<Ctx>;
}

/** Merge resolver maps type by type (the case service's and this one's). */
export function mergeResolvers<C>(...maps: Array<GraphQLResolverMap<C>>): GraphQLResolverMap<C> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const m of maps) {
    for (const [type, fields] of Object.entries(m)) {
      out[type] = { ...(out[type] ?? {}), ...(fields as Record<string, unknown>) };
    }
  }
  return out as GraphQLResolverMap<C>;
}

