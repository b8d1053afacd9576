/**
 * Back-channel logout to partners on private networks: what the IdP may call is configuration,
 * what it would never call is refused at registration, and every failed delivery is logged,
 * stored and retried with backoff until delivered or given up.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { OffsetClock } from '../../kernel/clock.ts';
import { DEMO_CITIZEN } from '../../kernel/demo.ts';
import { networkPolicy, outboundFetch, parseNetworks } from '../../kernel/outbound.ts';
import {
  CookieJar, adminCall, adminToken, browserFetch, parseForms, partnerCodeFlow, startTestIdp, type TestIdp,
} from '../../test/support/oidc.ts';
import { DEMO_ADMIN_PASSWORD } from '../admin/seed.ts';
import { eventually } from '../../test/support/eventually.ts';

let receiver: Server;
let receiverUrl: string;
/** How the partner's endpoint answers: fail the first `failures` deliveries with 503. */
let failures = 0;
const received: string[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => { data += c.toString(); });
    req.on('end', () => {
      if (failures > 0) { failures--; res.statusCode = 503; res.end(); return; }
      received.push(new URLSearchParams(data).get('logout_token') ?? '');
      res.statusCode = 200;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/bcl`;
});
afterAll(async () => { await new Promise((r) => receiver.close(r)); });

describe('outbound.policy', () => {
  test('special-use addresses are refused unless their network is allowed; public ones pass; IPv4-mapped IPv6 is judged as IPv4', () => {
    const none = networkPolicy([]);
    for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fc00::1', 'fe80::1', '::ffff:127.0.0.1']) {
      expect(none.refusal(a)).toMatch(/special-use/);
    }
    for (const a of ['8.8.8.8', '202.96.209.5', '2400:da00::6666']) expect(none.refusal(a)).toBeNull();
    const gov = networkPolicy(parseNetworks('10.0.0.0/8, 127.0.0.0/8'));
    expect(gov.refusal('10.20.30.40')).toBeNull();
    expect(gov.refusal('::ffff:127.0.0.1')).toBeNull();
    expect(gov.refusal('192.168.1.1')).toMatch(/special-use/);
    expect(gov.refusal('169.254.169.254')).toMatch(/special-use/);
    expect(() => parseNetworks('10.0.0.0/33')).toThrow();
    expect(() => parseNetworks('intranet')).toThrow();
  });

  test('the check is made where the socket opens: a name resolving to a refused address sends nothing', async () => {
    const before = received.length;
    const refused = outboundFetch({ policy: networkPolicy([]) });
    await expect(refused(receiverUrl.replace('127.0.0.1', 'localhost'), { method: 'POST', body: 'logout_token=x' })).rejects.toThrow(/outbound refused/);
    await expect(refused(receiverUrl, { method: 'POST', body: 'logout_token=x' })).rejects.toThrow(/outbound refused/);
    expect(received.length).toBe(before);
    const allowed = outboundFetch({ policy: networkPolicy(parseNetworks('127.0.0.0/8,::1/128')) });
    const r = await allowed(receiverUrl.replace('127.0.0.1', 'localhost'), { method: 'POST', body: 'logout_token=y', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(r.status).toBe(200);
    expect(received.at(-1)).toBe('y');
  });
});

async function withIdp(env: Record<string, string>, clock: OffsetClock, fn: (idp: TestIdp, logs: () => string) => Promise<void>): Promise<void> {
  let text = '';
  const sink = new Writable({ write(chunk, _enc, cb) { text += String(chunk); cb(); } });
  const idp = await startTestIdp({ clock, log: pino({ level: 'debug' }, sink), env: { IDP_BACKCHANNEL_RETRY_MS: '3600000', ...env } });
  try { await fn(idp, () => text); } finally { await idp.close(); }
}

const register = async (idp: TestIdp, admin: string, bcl: string) => adminCall(idp.issuer, admin, 'POST', '/admin/clients', {
  client_name: '内网合作网站 / Intranet partner', redirect_uris: ['https://intranet.partner.test/cb'],
  post_logout_redirect_uris: ['https://intranet.partner.test/'], backchannel_logout_uri: bcl, scope: 'openid profile',
});

/** Log in at the partner, then log out at the IdP (RP-initiated), which sends the back-channel logout. */
async function loginAndLogout(idp: TestIdp, partner: { client_id: string; client_secret: string }): Promise<void> {
  const jar = new CookieJar();
  const a = await partnerCodeFlow(idp.issuer, partner, 'https://intranet.partner.test/cb', jar, { login: DEMO_CITIZEN.mobile, password: DEMO_CITIZEN.password });
  const end = new URL('/session/end', idp.issuer);
  end.searchParams.set('client_id', partner.client_id);
  end.searchParams.set('id_token_hint', a.tokens!.id_token!);
  const form = parseForms(await (await browserFetch(jar, end)).text())[0]!;
  await browserFetch(jar, new URL(form.action, end), { form: { ...form.fields, logout: 'yes' } });
}

const rows = async (idp: TestIdp, clientId: string) => (await idp.db.query<{ state: string; attempts: number; last_error: string | null }>(
  'select state, attempts, last_error from idp.backchannel_deliveries where client_id = $1 order by id', [clientId])).rows;

describe('partners.backchannel', () => {
  test('registration refuses a back-channel URI on a network the IdP may not call, and stores nothing', async () => {
    await withIdp({}, new OffsetClock(), async (idp) => {
      const admin = await adminToken(idp.issuer, 'yw-admin', DEMO_ADMIN_PASSWORD);
      const before = (await idp.db.query<{ n: number }>('select count(*)::int as n from idp.partner_clients')).rows[0]!.n;
      for (const uri of [receiverUrl, 'http://10.0.0.8/bcl', 'http://169.254.169.254/latest', 'http://[::1]:9/bcl']) {
        const r = await register(idp, admin, uri);
        expect(r.status).toBe(400);
        expect(r.body).toMatchObject({ code: 'BAD_INPUT' });
        expect(JSON.stringify(r.body)).toContain('IDP_OUTBOUND_ALLOWED_NETWORKS');
      }
      expect((await idp.db.query<{ n: number }>('select count(*)::int as n from idp.partner_clients')).rows[0]!.n).toBe(before);
    });
  });

  test('on an allowed private network: a failed delivery is logged (no token), stored and retried with backoff until delivered', async () => {
    const clock = new OffsetClock();
    await withIdp({ IDP_OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8' }, clock, async (idp, logs) => {
      const admin = await adminToken(idp.issuer, 'yw-admin', DEMO_ADMIN_PASSWORD);
      const reg = await register(idp, admin, receiverUrl);
      expect(reg.status).toBe(201);
      const partner = reg.body as { client_id: string; client_secret: string };
      failures = 2;
      received.length = 0;
      await loginAndLogout(idp, partner);
      expect(received).toEqual([]);
      // oidc-provider reports the failure by an event after the logout answered: the row follows.
      await eventually(async () => (await rows(idp, partner.client_id)).length > 0);
      expect(await rows(idp, partner.client_id)).toEqual([{ state: 'pending', attempts: 1, last_error: expect.stringContaining('503') }]);
      expect(logs()).toContain('back-channel logout delivery failed; will retry');
      expect(logs()).not.toMatch(/logout_token=|eyJ[\w-]+\.eyJ/); // never the token

      // Not due yet: nothing happens. Due after 10 s: the second attempt fails (503), the third after 60 s more succeeds.
      expect(await deliver(idp)).toBe(0);
      clock.offsetMs += 11_000;
      expect(await deliver(idp)).toBe(1);
      expect(await rows(idp, partner.client_id)).toEqual([{ state: 'pending', attempts: 2, last_error: expect.stringContaining('503') }]);
      clock.offsetMs += 61_000;
      expect(await deliver(idp)).toBe(1);
      expect(await rows(idp, partner.client_id)).toMatchObject([{ state: 'delivered', attempts: 3 }]);
      expect(received).toHaveLength(1);
      expect(logs()).toContain('back-channel logout delivered on retry');
      const view = await adminCall(idp.issuer, admin, 'GET', `/admin/clients/${partner.client_id}`);
      expect(view.body.backchannelLogout).toMatchObject({ pending: 0, delivered: 1, failed: 0 });
    });
  });

  test('a partner that never answers is given up after IDP_BACKCHANNEL_MAX_ATTEMPTS, logged as an error and counted', async () => {
    const clock = new OffsetClock();
    await withIdp({ IDP_OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8', IDP_BACKCHANNEL_MAX_ATTEMPTS: '2' }, clock, async (idp, logs) => {
      const admin = await adminToken(idp.issuer, 'yw-admin', DEMO_ADMIN_PASSWORD);
      const partner = (await register(idp, admin, receiverUrl)).body as { client_id: string; client_secret: string };
      failures = 100;
      await loginAndLogout(idp, partner);
      await eventually(async () => (await rows(idp, partner.client_id)).length > 0);
      clock.offsetMs += 11_000;
      expect(await deliver(idp)).toBe(1);
      expect(await rows(idp, partner.client_id)).toMatchObject([{ state: 'failed', attempts: 2 }]);
      expect(logs()).toContain('back-channel logout given up');
      clock.offsetMs += 120_000; // past every backoff of its attempts: a given-up delivery is not tried again
      expect(await deliver(idp)).toBe(0);
      const view = await adminCall(idp.issuer, admin, 'GET', `/admin/clients/${partner.client_id}`);
      expect(view.body.backchannelLogout).toMatchObject({ pending: 0, failed: 1 });
      failures = 0;
    });
  });
});

/** Run one retry pass of the IdP's delivery loop (the due ones), through the admin API an operator uses. */
async function deliver(idp: TestIdp): Promise<number> {
  const admin = await adminToken(idp.issuer, 'yw-admin', DEMO_ADMIN_PASSWORD);
  const r = await adminCall(idp.issuer, admin, 'POST', '/admin/backchannel/retry', {});
  expect(r.status).toBe(200);
  return (r.body as { attempted: number }).attempted;
}
