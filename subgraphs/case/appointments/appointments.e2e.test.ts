/**
 * Appointments end to end through the gateway: the whole platform in-process (demo data seeded),
 * real logins at the IdP, the real IdP account lookup behind booking, the composed supergraph.
 * The moving-clock rules are proven in the subgraph tests; here, the wiring users rely on.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../kernel/config.ts';
import { systemClock } from '../../../kernel/clock.ts';
import { DEMO_CITIZEN } from '../../../kernel/demo.ts';
import { maskIdNumber } from '../../../kernel/ids.ts';
import { internalKey } from '../../../kernel/internal-auth.ts';
import { silentLogger } from '../../../kernel/log.ts';
import type { Cache } from '../../../kernel/cache.ts';
import { startPlatform, type Platform } from '../../../bin/platform.ts';
import { TEST_SECRET, testCache, testDb, type TestDb } from '../../../test/support/infra.ts';
import { errorCode, gql, gqlOk, login, type Endpoints } from '../../../test/journey.ts';
import { FOOD_ITEM } from '../../../test/support/appointments.ts';
import { demoWindowId } from './seed.ts';
import { addDays, localDate } from './time.ts';

let db: TestDb;
let cache: Cache;
let platform: Platform;
let e: Endpoints;
const dataDir = mkdtempSync(join(tmpdir(), 'yiwang-appt-e2e-'));
const WINDOW = demoWindowId(1);
let citizen: string;

beforeAll(async () => {
  db = await testDb();
  cache = await testCache();
  // Every day of the coming week a working day, whatever today is (a long holiday would leave
  // nothing to book): the operator's holiday file may declare make-up working days.
  const today = localDate(new Date());
  const holidays = join(dataDir, 'holidays.json');
  writeFileSync(holidays, JSON.stringify({ holidays: [], workdays: [1, 2, 3, 4, 5, 6, 7, 8].map((d) => addDays(today, d)) }));
  const config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, BIND_HOST: '127.0.0.1',
    IDP_PORTAL_REDIRECT_URIS: 'http://127.0.0.1:3000/callback', CASE_HOLIDAYS_FILE: holidays,
  });
  platform = await startPlatform({
    config,
    secrets: { internalSecret: TEST_SECRET, keyPassphrase: 'appt-e2e-key-passphrase-0123456789abcdef', cookieKeys: ['appt-e2e-cookie-key-0123456789abcdef'] },
    internalKey: internalKey(TEST_SECRET), db, cache, clock: systemClock, log: silentLogger(),
  }, { ports: 'ephemeral', seed: true });
  e = {
    gateway: platform.services.gateway.url, issuer: platform.config.IDP_ISSUER, licence: platform.services.licence.url,
    resource: config.GATEWAY_RESOURCE, redirectUri: 'http://127.0.0.1:3000/callback',
  };
  citizen = await login(e, DEMO_CITIZEN.idNumber, DEMO_CITIZEN.password);
}, 180_000);

afterAll(async () => {
  await platform?.close();
  await cache?.close();
  await db?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

const SLOTS = `query ($i: ID!, $w: ID) { appointmentSlots(itemId: $i, windowId: $w) { date start end available open item { name } window { hall name } } }`;
const BOOK = `mutation ($w: ID!, $i: ID!, $d: String!, $s: String!) { bookAppointment(windowId: $w, itemId: $i, date: $d, start: $s) { id status date start } }`;

describe('appointments.e2e (through the gateway)', () => {
  test('a visitor finds open slots at the demo window; the citizen books, sees, and cancels', async () => {
    const slots = await gqlOk<{ appointmentSlots: Array<{ date: string; start: string; available: number; open: boolean; item: { name: string }; window: { hall: string; name: string } }> }>(
      e.gateway, null, SLOTS, { i: FOOD_ITEM.id, w: WINDOW });
    expect(slots.appointmentSlots.length).toBe(7 * 13);
    const first = slots.appointmentSlots[0]!;
    expect(first).toMatchObject({ date: addDays(localDate(new Date()), 1), start: '09:00', available: 4, open: true, item: { name: FOOD_ITEM.name }, window: { hall: '杭州市民中心', name: '1号窗口' } });

    const booked = await gqlOk<{ bookAppointment: { id: string; status: string } }>(e.gateway, citizen, BOOK, { w: WINDOW, i: FOOD_ITEM.id, d: first.date, s: '09:30' });
    expect(booked.bookAppointment.status).toBe('BOOKED');
    const again = await gql(e.gateway, citizen, BOOK, { w: WINDOW, i: FOOD_ITEM.id, d: first.date, s: '10:00' });
    expect(errorCode(again)).toBe('APPOINTMENT_ALREADY_BOOKED');
    expect(errorCode(await gql(e.gateway, null, BOOK, { w: WINDOW, i: FOOD_ITEM.id, d: first.date, s: '10:00' }))).toBe('UNAUTHENTICATED');

    const mine = await gqlOk<{ myAppointments: Array<Record<string, unknown>> }>(e.gateway, citizen,
      '{ myAppointments { id status idNumberMasked item { name agency { name } } window { name } } myBookingStanding { suspended noShowsThisMonth } }');
    // The masked ID number proves the real IdP lookup behind the booking.
    expect(mine.myAppointments).toEqual([{ id: booked.bookAppointment.id, status: 'BOOKED', idNumberMasked: maskIdNumber(DEMO_CITIZEN.idNumber), item: { name: FOOD_ITEM.name, agency: { name: '杭州市市场监督管理局' } }, window: { name: '1号窗口' } }]);
    const cancelled = await gqlOk<{ cancelAppointment: { status: string } }>(e.gateway, citizen, 'mutation ($id: ID!) { cancelAppointment(id: $id) { status } }', { id: booked.bookAppointment.id });
    expect(cancelled.cancelAppointment.status).toBe('CANCELLED');
  });

  test('staff roles come from real tokens: the decider sets a calendar, the receiver runs the queue', async () => {
    const decider = await login(e, 'hz-decider', 'Staff@2026demo');
    const receiver = await login(e, 'hz-receiver', 'Staff@2026demo');
    const CAL = 'mutation ($in: AppointmentCalendarInput!) { defineAppointmentCalendar(input: $in) { capacity item { name } } }';
    const input = { windowId: WINDOW, itemId: FOOD_ITEM.id, periods: [{ start: '09:00', end: '12:00' }, { start: '13:30', end: '17:00' }], slotMinutes: 30, capacity: 6 };
    expect((await gqlOk<{ defineAppointmentCalendar: unknown }>(e.gateway, decider, CAL, { in: input })).defineAppointmentCalendar).toEqual({ capacity: 6, item: { name: FOOD_ITEM.name } });
    expect(errorCode(await gql(e.gateway, receiver, CAL, { in: input }))).toBe('ROLE_REQUIRED');

    const ticket = await gqlOk<{ takeWalkInTicket: { number: string } }>(e.gateway, receiver, 'mutation ($w: ID!) { takeWalkInTicket(windowId: $w) { number } }', { w: WINDOW });
    expect(ticket.takeWalkInTicket.number).toBe('X001');
    const called = await gqlOk<{ callNextTicket: { id: string; number: string } }>(e.gateway, receiver, 'mutation ($w: ID!) { callNextTicket(windowId: $w) { id number } }', { w: WINDOW });
    expect(called.callNextTicket.number).toBe('X001');
    const done = await gqlOk<{ finishTicket: { status: string } }>(e.gateway, receiver, 'mutation ($id: ID!) { finishTicket(id: $id, served: true) { status } }', { id: called.callNextTicket.id });
    expect(done.finishTicket.status).toBe('DONE');
    // Nothing booked for today: the kiosk finds nothing for the citizen's ID card.
    expect(errorCode(await gql(e.gateway, receiver, 'mutation ($n: String!) { kioskCheckIn(idNumber: $n) { number } }', { n: DEMO_CITIZEN.idNumber }))).toBe('APPOINTMENT_NOT_FOUND');
    expect(errorCode(await gql(e.gateway, citizen, 'mutation ($w: ID!) { callNextTicket(windowId: $w) { id } }', { w: WINDOW }))).toBe('ROLE_REQUIRED');
  });
});
