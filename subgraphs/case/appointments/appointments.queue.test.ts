import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ANONYMOUS } from '../../../test/support/subgraph.ts';
import {
  BOOK, FOOD_ITEM, HZ_HR, MONDAY_9AM, TICKET_FIELDS, codeOf, count, idNumberOf, ok, person, setUpWindow, staffOf, startApptFixture,
  type ApptFixture, type ApptView, type TicketView,
} from '../../../test/support/appointments.ts';

const CHECK_IN = `mutation ($id: String!) { kioskCheckIn(idNumber: $id) { ${TICKET_FIELDS} } }`;
const WALK_IN = `mutation ($w: ID!) { takeWalkInTicket(windowId: $w) { ${TICKET_FIELDS} } }`;
const CALL = `mutation ($w: ID!) { callNextTicket(windowId: $w) { ${TICKET_FIELDS} } }`;
const FINISH = `mutation ($id: ID!, $served: Boolean!) { finishTicket(id: $id, served: $served) { ${TICKET_FIELDS} } }`;
const QUEUE = `query ($w: ID!) { windowQueue(windowId: $w) { number status } }`;

const kiosk = staffOf('receiver');
let f: ApptFixture;
let windowId: string;
const at = (t: string) => f.clock.set(`2026-11-24T${t}:00+08:00`);
const book = (n: number, start: string, date = '2026-11-24') => ok<ApptView>(f, person(n), BOOK, { windowId, itemId: FOOD_ITEM.id, date, start });
const call = async () => (await ok<TicketView | null>(f, kiosk, CALL, { w: windowId }))?.number ?? null;
const statusOf = async (id: string) => (await f.db.query<{ status: string }>('select status from cases.appointments where id = $1', [id])).rows[0]!.status;

beforeAll(async () => {
  f = await startApptFixture();
  for (let n = 1; n <= 12; n++) f.directory.add(n);
  ({ windowId } = await setUpWindow(f, { capacity: 3 }));
});
afterAll(async () => { await f.close(); });

describe('appointments.queue (R-CA-5: check-in and priority tickets)', () => {
  test('kiosk check-in by ID number: refusals with their codes, nothing issued', async () => {
    f.clock.set(MONDAY_9AM);
    const a = await book(1, '09:00');
    at('08:00');
    expect(codeOf(await f.call(kiosk, CHECK_IN, { id: '110105199001010001' }))).toBe('ID_NUMBER_INVALID');
    expect(codeOf(await f.call(kiosk, CHECK_IN, { id: idNumberOf(99) }))).toBe('APPOINTMENT_NOT_FOUND');
    expect(codeOf(await f.call(staffOf('receiver', HZ_HR), CHECK_IN, { id: idNumberOf(1) }))).toBe('APPOINTMENT_NOT_FOUND'); // another agency's hall
    expect(codeOf(await f.call(person(1), CHECK_IN, { id: idNumberOf(1) }))).toBe('ROLE_REQUIRED');
    expect(codeOf(await f.call(ANONYMOUS, CHECK_IN, { id: idNumberOf(1) }))).toBe('UNAUTHENTICATED');
    f.clock.set('2026-11-23T16:00:00+08:00'); // the day before: not yet valid
    expect(codeOf(await f.call(kiosk, CHECK_IN, { id: idNumberOf(1) }))).toBe('APPOINTMENT_NOT_FOUND');
    expect(await count(f, 'select count(*)::int as n from cases.queue_tickets')).toBe(0);
    expect(await statusOf(a.id)).toBe('BOOKED');
  });

  test('check-in issues a Y ticket (lower-case x accepted); walk-ins get X tickets; appointment holders are called first once their slot begins', async () => {
    f.clock.set(MONDAY_9AM);
    const p2 = await book(7, '10:00'); // ID number ending in X
    const p3 = await book(3, '09:30');
    at('08:50');
    expect(idNumberOf(7).endsWith('X')).toBe(true);
    const x1 = await ok<TicketView>(f, kiosk, WALK_IN, { w: windowId });
    expect(x1).toMatchObject({ number: 'X001', kind: 'WALK_IN', status: 'WAITING', day: '2026-11-24', priorityFrom: null });
    at('08:55');
    const [y1] = await ok<TicketView[]>(f, kiosk, CHECK_IN, { id: idNumberOf(7).toLowerCase() });
    expect(y1).toMatchObject({ number: 'Y001', kind: 'APPOINTMENT', priorityFrom: '2026-11-24T02:00:00.000Z' });
    expect(await statusOf(p2.id)).toBe('CHECKED_IN');
    at('09:05');
    const [y2] = await ok<TicketView[]>(f, kiosk, CHECK_IN, { id: idNumberOf(1) });   // slot 09:00
    expect(y2!.number).toBe('Y002');
    expect(codeOf(await f.call(kiosk, CHECK_IN, { id: idNumberOf(1) }))).toBe('APPOINTMENT_NOT_FOUND'); // once only
    at('09:06');
    await ok(f, kiosk, WALK_IN, { w: windowId }); // X002
    at('09:31');
    await ok(f, kiosk, CHECK_IN, { id: idNumberOf(3) }); // Y003, slot 09:30, checked in after everyone
    at('09:40');
    // Y003 (09:30) and Y002 (09:00) have begun: by slot, before every walk-in; then issue order:
    // X001 08:50, Y001 08:55 (its 10:00 slot has not begun: no worse off than a walk-in), X002 09:06.
    expect([await call(), await call(), await call(), await call(), await call()]).toEqual(['Y002', 'Y003', 'X001', 'Y001', 'X002']);
    expect(await call()).toBeNull();
    const queue = await ok<Array<{ number: string; status: string }>>(f, kiosk, QUEUE, { w: windowId });
    expect(queue.map((t) => t.status)).toEqual(['CALLED', 'CALLED', 'CALLED', 'CALLED', 'CALLED']);
    expect(p3.status).toBe('BOOKED');
  });

  test('two staff calling at once never get the same ticket', async () => {
    at('10:00');
    for (let i = 0; i < 4; i++) await ok(f, kiosk, WALK_IN, { w: windowId });
    const called = await Promise.all([1, 2, 3, 4, 5, 6].map(() => f.call<{ callNextTicket: TicketView | null }>(kiosk, CALL, { w: windowId })));
    const numbers = called.map((r) => r.data!.callNextTicket?.number).filter(Boolean);
    expect(numbers.sort()).toEqual(['X003', 'X004', 'X005', 'X006']);
  });

  test('finishing: served → appointment DONE and the ID may book the item again; absent → NO_SHOW (取号不办理)', async () => {
    f.clock.set(MONDAY_9AM);
    const p4 = await book(4, '11:00', '2026-11-25');
    const p5 = await book(5, '11:00', '2026-11-25');
    f.clock.set('2026-11-25T10:50:00+08:00');
    const [t4] = await ok<TicketView[]>(f, kiosk, CHECK_IN, { id: idNumberOf(4) });
    const [t5] = await ok<TicketView[]>(f, kiosk, CHECK_IN, { id: idNumberOf(5) });
    expect(t4!.number).toBe('Y001'); // numbers restart each day
    expect(codeOf(await f.call(kiosk, FINISH, { id: t4!.id, served: true }))).toBe('QUEUE_TICKET_NOT_CALLED');
    f.clock.set('2026-11-25T11:00:00+08:00');
    expect(await call()).toBe('Y001');
    expect(await call()).toBe('Y002');
    expect(codeOf(await f.call(staffOf('receiver', HZ_HR), FINISH, { id: t4!.id, served: true }))).toBe('QUEUE_TICKET_NOT_FOUND');
    expect(codeOf(await f.call(staffOf('decider'), FINISH, { id: t4!.id, served: true }))).toBe('ROLE_REQUIRED');
    expect(await ok(f, kiosk, FINISH, { id: t4!.id, served: true })).toMatchObject({ status: 'DONE' });
    expect(await ok(f, kiosk, FINISH, { id: t5!.id, served: false })).toMatchObject({ status: 'ABSENT' });
    expect(codeOf(await f.call(kiosk, FINISH, { id: t4!.id, served: true }))).toBe('QUEUE_TICKET_NOT_CALLED');
    expect(await statusOf(p4.id)).toBe('DONE');
    expect(await statusOf(p5.id)).toBe('NO_SHOW');
    expect(await count(f, 'select count(*)::int as n from cases.appointment_no_shows where appointment_id = $1', [p5.id])).toBe(1);
    expect(await count(f, 'select count(*)::int as n from cases.appointment_no_shows where appointment_id = $1', [p4.id])).toBe(0);
    const again = await book(4, '09:00', '2026-11-26');
    expect(again.status).toBe('BOOKED');
    const mine = await ok<Array<{ id: string; ticket: { number: string; status: string } | null }>>(f, person(4), '{ myAppointments { id ticket { number status } } }');
    expect(mine.find((a) => a.id === p4.id)!.ticket).toEqual({ number: 'Y001', status: 'DONE' });
  });

  test('tickets not served by the end of the day expire, and so do their appointments (no no-show)', async () => {
    f.clock.set(MONDAY_9AM);
    const p6 = await book(6, '14:00', '2026-11-26');
    f.clock.set('2026-11-26T13:50:00+08:00');
    await ok(f, kiosk, CHECK_IN, { id: idNumberOf(6) });
    f.clock.set('2026-11-27T08:00:00+08:00');
    await f.appointments.scheduler.runOnce();
    expect(await statusOf(p6.id)).toBe('EXPIRED');
    expect(await count(f, `select count(*)::int as n from cases.queue_tickets where appointment_id = $1 and status = 'EXPIRED'`, [p6.id])).toBe(1);
    expect(await count(f, 'select count(*)::int as n from cases.appointment_no_shows where appointment_id = $1', [p6.id])).toBe(0);
    await book(6, '09:00', '2026-11-30');
  });
});
