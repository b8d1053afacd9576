/**
 * Test fixture for appointments: the case subgraph's SDL served with the appointment resolvers on
 * a fresh database, a ManualClock, a substitute IdP directory and the development notifier
 * (kernel/notify.ts) writing to a temporary file. `appointments.wiring.test.ts` runs the real case
 * service instead, to prove the merge.
 */
import { mkdtempSync } from 'node:fs';
import { eventually as poll } from './eventually.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import { subgraphSdl } from '../../schema/compose.ts';
import { loadConfig } from '../../kernel/config.ts';
import { idNumberCheckDigit } from '../../kernel/ids.ts';
import { IDENTITY_HEADER, internalKey, operationHash, signIdentity, type Caller } from '../../kernel/internal-auth.ts';
import type { KeyObject } from 'node:crypto';
import { silentLogger } from '../../kernel/log.ts';
import { ManualClock } from '../../kernel/clock.ts';
import { migrate } from '../../kernel/migrate.ts';
import { devNotifier, type Notice, type Notifier, type SentNotice } from '../../kernel/notify.ts';
import type { Deps, RunningService } from '../../kernel/service.ts';
import { serveSubgraph } from '../../kernel/subgraph.ts';
import { DEMO_ITEMS } from '../../kernel/demo.ts';
import { TEST_SECRET, testCache, testDb, type TestDb } from './infra.ts';
import type { GraphQLResponse } from './subgraph.ts';
import { CASE_SCHEMA, migrations as caseMigrations } from '../../subgraphs/case/migrations.ts';
import type { ApplicantAccount, ApplicantDirectory } from '../../subgraphs/case/appointments/directory.ts';
import { startAppointments, type Appointments } from '../../subgraphs/case/appointments/index.ts';
import { weekdaysOnly, type WorkingDays } from '../../subgraphs/case/appointments/working-days.ts';

export const HZ = '11330100MB0000002W';
export const HZ_HR = '11330100MB00000030';
export const FOOD_ITEM = DEMO_ITEMS[0]!;   // HZ
export const SHOP_ITEM = DEMO_ITEMS[1]!;   // HZ
export const HR_ITEM = DEMO_ITEMS[2]!;     // HZ_HR

/** Monday 23 November 2026, 09:00 Beijing. Bookable: Tue 24 … Mon 30 (28, 29 weekend). */
export const MONDAY_9AM = '2026-11-23T09:00:00+08:00';

/** A valid resident ID number per n (GB 11643 check digit). */
export function idNumberOf(n: number): string {
  const first17 = `11010519900101${String(n).padStart(3, '0')}`;
  return first17 + idNumberCheckDigit(first17);
}

export const person = (n: number): Caller => ({ kind: 'person', sub: `a0000000-0000-4000-8000-${String(n).padStart(12, '0')}`, name: `预约人${n}` });
export const staffOf = (role: 'receiver' | 'acceptor' | 'reviewer' | 'decider', agency = HZ): Caller => ({
  kind: 'staff', sub: `staff-${role}-${agency}`, name: `工作人员${role}`, agency, roles: [role],
});

/** The IdP substitute: accounts by id; `fail` makes the next lookups throw (IdP down). */
export function fakeDirectory(): ApplicantDirectory & { accounts: Map<string, ApplicantAccount>; add(n: number, mobile?: string | null): void; down: boolean } {
  const accounts = new Map<string, ApplicantAccount>();
  const dir = {
    accounts,
    down: false,
    add(n: number, mobile: string | null = `139${String(n).padStart(8, '0')}`) {
      const sub = (person(n) as { sub: string }).sub;
      accounts.set(sub, { id: sub, name: `预约人${n}`, idNumber: idNumberOf(n), mobile });
    },
    async get(id: string) {
      if (dir.down) throw new Error('IdP down');
      const a = accounts.get(id);
      if (!a) throw new Error(`no account ${id}`);
      return a;
    },
  };
  return dir;
}

export interface ApptFixture {
  deps: Deps;
  db: TestDb;
  clock: ManualClock;
  directory: ReturnType<typeof fakeDirectory>;
  appointments: Appointments;
  svc: RunningService;
  /** Notices sent so far (development sink file). */
  notices(): Promise<SentNotice[]>;
  /** Make the next `n` sends fail (the SMS gateway refusing). */
  failSends(n: number): void;
  call<T = Record<string, unknown>>(caller: Caller, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export async function startApptFixture(o: { days?: WorkingDays; scanMs?: number } = {}): Promise<ApptFixture> {
  const db = await testDb();
  const cache = await testCache();
  const clock = new ManualClock(MONDAY_9AM);
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  const log = silentLogger();
  const deps: Deps = {
    config, secrets: { internalSecret: TEST_SECRET, keyPassphrase: 'test-passphrase-0123456789abcdef-0123', cookieKeys: ['k'] },
    internalKey: internalKey(TEST_SECRET), db, cache, clock, log,
  };
  await migrate(db, CASE_SCHEMA, caseMigrations);
  for (const i of DEMO_ITEMS) {
    await db.query('insert into cases.items (id, name, agency_code, agency_name) values ($1, $2, $3, $3)', [i.id, i.name, i.agencyCode]);
  }
  const sink = devNotifier({ file: join(mkdtempSync(join(tmpdir(), 'yw-appt-')), 'notices.jsonl'), log, clock });
  let failing = 0;
  const notifier: Notifier = {
    async send(n: Notice) {
      if (failing > 0) { failing--; throw new Error('SMS gateway answered 503'); }
      await sink.send(n);
    },
  };
  const directory = fakeDirectory();
  const appointments = await startAppointments(deps, { days: o.days ?? weekdaysOnly, directory, notifier, scanMs: o.scanMs ?? 60_000 });
  const svc = await serveSubgraph({
    name: 'case', deps, start: { port: 0 }, background: [appointments.scheduler],
    typeDefs: parse(subgraphSdl('case')), resolvers: appointments.resolvers,
  });
  return {
    deps, db, clock, directory, appointments, svc,
    notices: () => sink.read(),
    failSends: (n) => { failing = n; },
    call: (caller, query, variables = {}) => callAt(svc.url, deps.internalKey, clock.now(), caller, query, variables),
    async close() {
      await svc.close();
      await cache.close();
      await db.destroy();
    },
  };
}

/** Call the subgraph as the gateway would, with an assertion signed at the fixture's (moved) time. */
export async function callAt<T>(url: string, key: KeyObject, now: Date, caller: Caller, query: string, variables: Record<string, unknown>): Promise<GraphQLResponse<T>> {
  const headers = { 'content-type': 'application/json', [IDENTITY_HEADER]: await signIdentity(key, caller, operationHash(query, variables), now) };
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await res.json() as Record<string, unknown>;
  if ((res.headers.get('content-type') ?? '').includes('problem+json')) return { status: res.status, problem: body as GraphQLResponse['problem'] };
  return { status: res.status, ...(body as object) } as GraphQLResponse<T>;
}

export const codeOf = (r: GraphQLResponse<unknown>) => r.errors?.[0]?.extensions?.code ?? r.problem?.code;

/** Run a GraphQL call that must succeed; returns its single root field. */
export async function ok<T>(f: ApptFixture, caller: Caller, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const r = await f.call<Record<string, T>>(caller, query, variables);
  if (r.errors?.length || !r.data) throw new Error(`call failed: ${JSON.stringify(r.errors ?? r.problem)}`);
  return Object.values(r.data)[0] as T;
}

export const DEFINE_WINDOW = 'mutation ($input: HallWindowInput!) { defineHallWindow(input: $input) { id agencyCode hall name active } }';
export const DEFINE_CALENDAR = `mutation ($input: AppointmentCalendarInput!) { defineAppointmentCalendar(input: $input) {
  id window { id } item { id } periods { start end } slotMinutes capacity active } }`;
export const APPT_FIELDS = 'id itemName item { id } window { id name } date start end status idNumberMasked bookedAt cancelledAt checkedInAt remindedAt ticket { number status }';
export const BOOK = `mutation ($windowId: ID!, $itemId: ID!, $date: String!, $start: String!) {
  bookAppointment(windowId: $windowId, itemId: $itemId, date: $date, start: $start) { ${APPT_FIELDS} } }`;
export const CANCEL = `mutation ($id: ID!) { cancelAppointment(id: $id) { ${APPT_FIELDS} } }`;
export const TICKET_FIELDS = 'id number kind status day issuedAt calledAt priorityFrom window { id }';

export interface ApptView { id: string; status: string; date: string; start: string; end: string; idNumberMasked: string; remindedAt: string | null; ticket: { number: string; status: string } | null }
export interface TicketView { id: string; number: string; kind: string; status: string; day: string; priorityFrom: string | null }

/** A window with a calendar for an item: 09:00-12:00 and 13:30-17:00 in 30-minute slots. */
export async function setUpWindow(f: ApptFixture, o: { itemId?: string; capacity?: number; name?: string; agency?: string } = {}): Promise<{ windowId: string; calendarId: string }> {
  const agency = o.agency ?? HZ;
  const w = await ok<{ id: string }>(f, staffOf('decider', agency), DEFINE_WINDOW, { input: { hall: '市民中心', name: o.name ?? '3号窗口' } });
  const c = await ok<{ id: string }>(f, staffOf('decider', agency), DEFINE_CALENDAR, {
    input: {
      windowId: w.id, itemId: o.itemId ?? FOOD_ITEM.id, slotMinutes: 30, capacity: o.capacity ?? 2,
      periods: [{ start: '09:00', end: '12:00' }, { start: '13:30', end: '17:00' }],
    },
  });
  return { windowId: w.id, calendarId: c.id };
}

export const count = async (f: ApptFixture, sql: string, params: unknown[] = []) => (await f.db.query<{ n: number }>(sql, params)).rows[0]!.n;

/** As test/support/eventually.ts, waiting up to 5 s (the scheduler loop is asynchronous). */
export const eventually = <T>(check: () => Promise<T | null | undefined | false>, ms = 5_000): Promise<T> => poll(check, ms, 20);
