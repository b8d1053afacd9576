/**
 * Administration (R-ID-9, R-ID-10) through the admin API and the login pages:
 * opening a staff account, disabling (with the SMS notice), re-enabling only with a second
 * person who is a department head, the hash-chained audit log of it all, and per-client
 * access policies changed at run time.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import { DEMO_CITIZEN, DEMO_STAFF } from '../../kernel/demo.ts';
import { idNumberCheckDigit } from '../../kernel/ids.ts';
import {
  CookieJar, adminCall, adminToken, authorizeCountingPages, discoverClient, loginWithPkce, partnerCodeFlow, registerPerson, startTestIdp, type TestIdp,
} from '../../test/support/oidc.ts';
import { DEMO_ADMIN_PASSWORD, DEMO_ADMINS } from './seed.ts';

const REDIRECT = 'http://127.0.0.1:3000/callback';
const CB = 'https://policy.partner.test/cb';
const notices = join(mkdtempSync(join(tmpdir(), 'yw-admin-')), 'notices.jsonl');

let idp: TestIdp;
let admin: string;
let head: string;

const idNumber = (seq: string) => `11010519900307${seq}${idNumberCheckDigit(`11010519900307${seq}`)}`;
const person = (seq: string, mobile: string) => ({ name: '孙八', idNumber: idNumber(seq), mobile, password: 'Admin#test2026x' });
const portalLogin = (login: string, password: string) => loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, login, password });

beforeAll(async () => {
  idp = await startTestIdp({ env: { NOTIFY_DEV_FILE: notices } });
  admin = await adminToken(idp.issuer, 'yw-admin', DEMO_ADMIN_PASSWORD);
  head = await adminToken(idp.issuer, 'yw-head', DEMO_ADMIN_PASSWORD);
});
afterAll(async () => { await idp?.close(); });

const call = (token: string | undefined, method: string, path: string, body?: unknown) => adminCall(idp.issuer, token, method, path, body);

describe('admin.accounts', () => {
  test('open: a staff account with a random initial password shown once, and the agreement to print', async () => {
    const r = await call(admin, 'POST', '/admin/accounts', { username: 'hz-clerk', name: '周办事', agencyCode: DEMO_STAFF[0]!.agencyCode, roles: ['receiver'] });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ username: 'hz-clerk', agreement: { version: expect.any(String) } });
    // The first login must replace the initial password.
    const config = await discoverClient(idp.issuer);
    const start = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    });
    const first = await authorizeCountingPages(new CookieJar(), start, REDIRECT, 'hz-clerk', r.body.initialPassword, 'Clerk#changed2026');
    expect(first.pages).toMatchObject({ login: 1, passwordChange: 1 });
    expect(first.callback.searchParams.get('code')).toBeTruthy();
    expect((await portalLogin('hz-clerk', 'Clerk#changed2026')).claims()?.sub).toBe(r.body.id);
    expect((await call(admin, 'POST', '/admin/accounts', { username: 'hz-clerk', name: '重复', agencyCode: DEMO_STAFF[0]!.agencyCode, roles: [] })).body.code).toBe('ACCOUNT_EXISTS');
    expect((await call(admin, 'POST', '/admin/accounts', { username: 'x', name: '', agencyCode: '123', roles: ['root'] })).body).toMatchObject({ code: 'BAD_INPUT' });
    expect((await call(head, 'POST', '/admin/accounts', { username: 'hz-other', name: '无权', agencyCode: DEMO_STAFF[0]!.agencyCode, roles: [] })).body.code).toBe('FORBIDDEN');
  });

  test('disable: login refused at once, the refresh token stops working, and the person gets an SMS', async () => {
    const u = person('711', '13955550001');
    const { id } = await registerPerson(idp.issuer, u);
    const before = await portalLogin(u.mobile, u.password);
    expect((await call(admin, 'POST', `/admin/accounts/${id}/disable`, {})).body.code).toBe('BAD_INPUT');
    const r = await call(admin, 'POST', `/admin/accounts/${id}/disable`, { reason: '用户申请注销 / user asked' });
    expect(r).toMatchObject({ status: 200, body: { id, disabled: true } });
    await expect(portalLogin(u.mobile, u.password)).rejects.toMatchObject({ code: 'ACCOUNT_DISABLED' });
    await expect(client.refreshTokenGrant(before.config, before.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(existsSync(notices)).toBe(true);
    const sent = readFileSync(notices, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { to: string; template: string });
    expect(sent).toContainEqual(expect.objectContaining({ to: u.mobile, template: 'account.disabled' }));
    expect((await call(admin, 'POST', `/admin/accounts/${id}/disable`, { reason: 'again' })).body.code).toBe('CONFLICT');
    expect((await call(admin, 'POST', '/admin/accounts/00000000-0000-4000-8000-000000000000/disable', { reason: 'x' })).body.code).toBe('NOT_FOUND');
  });

  test('re-enable needs a second person with the department-head role (R-ID-9)', async () => {
    const u = person('722', '13955550002');
    const { id } = await registerPerson(idp.issuer, u);
    await call(admin, 'POST', `/admin/accounts/${id}/disable`, { reason: '可疑登录 / suspicious' });
    // A staff member holding both roles cannot approve their own request.
    const both = await call(admin, 'POST', '/admin/accounts', { username: 'hz-both', name: '吴双', agencyCode: DEMO_STAFF[0]!.agencyCode, roles: ['admin', 'department-head'] });
    const bothToken = await adminToken(idp.issuer, 'hz-both', both.body.initialPassword, { newPassword: 'Both#changed2026' });
    const req = await call(bothToken, 'POST', `/admin/accounts/${id}/enable-requests`, { reason: '已核实身份 / identity checked' });
    expect(req).toMatchObject({ status: 201, body: { status: 'pending', accountId: id } });
    expect((await call(bothToken, 'POST', `/admin/accounts/${id}/enable-requests`, { reason: 'twice' })).body.code).toBe('CONFLICT');
    const own = await call(bothToken, 'POST', `/admin/enable-requests/${req.body.id}/approve`);
    expect(own).toMatchObject({ status: 403, body: { code: 'SECOND_APPROVER_REQUIRED' } });
    // An administrator without the department-head role cannot approve either.
    expect((await call(admin, 'POST', `/admin/enable-requests/${req.body.id}/approve`)).body).toMatchObject({ code: 'FORBIDDEN', details: { role: 'department-head' } });
    await expect(portalLogin(u.mobile, u.password)).rejects.toMatchObject({ code: 'ACCOUNT_DISABLED' });
    const pending = await call(head, 'GET', '/admin/enable-requests?status=pending');
    expect(pending.body.map((r: { id: string }) => r.id)).toContain(req.body.id);
    // The second person approves: the account works again.
    const ok = await call(head, 'POST', `/admin/enable-requests/${req.body.id}/approve`);
    expect(ok.body).toMatchObject({ status: 'approved', decidedBy: DEMO_ADMINS[1].id, requestedBy: both.body.id });
    expect((await portalLogin(u.mobile, u.password)).claims()?.sub).toBe(id);
    expect((await call(head, 'POST', `/admin/enable-requests/${req.body.id}/reject`)).body.code).toBe('CONFLICT');
    // Two decisions at once: exactly one is taken.
    await call(admin, 'POST', `/admin/accounts/${id}/disable`, { reason: 'again' });
    const again = await call(admin, 'POST', `/admin/accounts/${id}/enable-requests`, { reason: 'checked again' });
    const both2 = await Promise.all([
      call(head, 'POST', `/admin/enable-requests/${again.body.id}/approve`), call(head, 'POST', `/admin/enable-requests/${again.body.id}/reject`),
    ]);
    expect(both2.map((r) => r.status).sort()).toEqual([200, 409]);
    await call(head, 'POST', `/admin/enable-requests/${again.body.id}/approve`);
    const final = (await call(head, 'GET', '/admin/enable-requests')).body.find((r: { id: string }) => r.id === again.body.id);
    if (final.status === 'rejected') await call(admin, 'POST', `/admin/accounts/${id}/enable-requests`, { reason: 'third time' }).then((r) => call(head, 'POST', `/admin/enable-requests/${r.body.id}/approve`));
    expect((await call(admin, 'POST', `/admin/accounts/${id}/enable-requests`, { reason: 'not disabled' })).body.code).toBe('CONFLICT');
  });
});

describe('admin.policies', () => {
  let partner: { client_id: string; client_secret: string };
  beforeAll(async () => {
    partner = (await call(admin, 'POST', '/admin/clients', { client_name: '政策测试 / Policy test', redirect_uris: [CB] })).body;
  });
  const flow = (login: string, password: string) => partnerCodeFlow(idp.issuer, partner, CB, new CookieJar(), { login, password });

  test('R-ID-10: a policy changed at run time admits or refuses kinds, roles and levels at the next login', async () => {
    expect((await flow(DEMO_CITIZEN.mobile, DEMO_CITIZEN.password)).tokens).toBeDefined();
    expect((await call(admin, 'PUT', `/admin/clients/${partner.client_id}/policy`, { kinds: ['staff'] })).status).toBe(200);
    const refused = await flow(DEMO_CITIZEN.mobile, DEMO_CITIZEN.password);
    expect(refused.callback.searchParams.get('error')).toBe('access_denied');
    expect(refused.callback.searchParams.get('error_description')).toContain('person');
    const staff = DEMO_STAFF[0]!;
    expect((await flow(staff.username, staff.password)).tokens).toBeDefined();
    // Roles: only deciders.
    await call(admin, 'PUT', `/admin/clients/${partner.client_id}/policy`, { kinds: ['staff'], roles: ['decider'] });
    const acceptor = DEMO_STAFF.find((s) => s.roles.includes('acceptor') && !s.roles.includes('decider'))!;
    expect((await flow(acceptor.username, acceptor.password)).callback.searchParams.get('error')).toBe('access_denied');
    // A minimum level the user cannot reach (an L3 account; reachable ones are stepped up, idp/partners/stepup.test.ts).
    await call(admin, 'PUT', `/admin/clients/${partner.client_id}/policy`, { minAcr: 'urn:yiwang:loa:5' });
    const low = await flow(DEMO_CITIZEN.mobile, DEMO_CITIZEN.password);
    expect(low.callback.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(low.callback.searchParams.get('error_description')).toContain('access policy requires urn:yiwang:loa:5');
    expect((await call(admin, 'GET', `/admin/clients/${partner.client_id}/policy`)).body).toEqual({ minAcr: 'urn:yiwang:loa:5' });
    expect((await call(admin, 'DELETE', `/admin/clients/${partner.client_id}/policy`)).status).toBe(204);
    expect((await flow(DEMO_CITIZEN.mobile, DEMO_CITIZEN.password)).tokens).toBeDefined();
  });

  test('a policy applies to refresh too, and other clients are not disturbed', async () => {
    const u = person('733', '13955550003');
    await registerPerson(idp.issuer, u);
    const portal = await portalLogin(u.mobile, u.password);
    const p = await partnerCodeFlow(idp.issuer, { ...partner }, CB, new CookieJar(), { login: u.mobile, password: u.password, scope: 'openid offline_access' });
    await call(admin, 'PUT', '/admin/clients/yiwang-portal/policy', { kinds: ['staff'] });
    try {
      await expect(client.refreshTokenGrant(portal.config, portal.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      // The partner, with its own (empty) policy, is unaffected.
      expect(p.tokens).toBeDefined();
    } finally {
      await call(admin, 'DELETE', '/admin/clients/yiwang-portal/policy');
    }
    expect((await portalLogin(u.mobile, u.password)).access_token).toBeTruthy();
  });

  test('bad policies are BAD_INPUT; unknown clients NOT_FOUND; nothing stored', async () => {
    for (const body of [{ kinds: [] }, { minAcr: 'gold' }, { roles: ['Bad Role'] }, { other: 1 }]) {
      expect((await call(admin, 'PUT', `/admin/clients/${partner.client_id}/policy`, body)).body.code).toBe('BAD_INPUT');
    }
    expect((await call(admin, 'GET', `/admin/clients/${partner.client_id}/policy`)).body).toEqual({});
    expect((await call(admin, 'PUT', '/admin/clients/partner-nope/policy', {})).body.code).toBe('NOT_FOUND');
  });
});

describe('admin.audit', () => {
  test('every administrative act is in the log, in order, with a chain that verifies', async () => {
    const all = await call(admin, 'GET', '/admin/audit?limit=1000');
    const actions = all.body.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining([
      'account.open', 'account.disable', 'account.enable.request', 'account.enable.approve', 'client.register', 'client.policy.set', 'client.policy.clear',
    ]));
    // One entry per decision actually taken; refused acts (own approval, no role, double decision) left none.
    const decided = (await call(admin, 'GET', '/admin/enable-requests')).body as Array<{ status: string }>;
    expect(actions.filter((a: string) => a === 'account.enable.approve')).toHaveLength(decided.filter((r) => r.status === 'approved').length);
    expect(actions.filter((a: string) => a === 'account.enable.reject')).toHaveLength(decided.filter((r) => r.status === 'rejected').length);
    expect(all.body.map((e: { seq: number }) => e.seq)).toEqual(all.body.map((_: unknown, i: number) => i + 1));
    const byActor = await call(admin, 'GET', `/admin/audit?actorId=${DEMO_ADMINS[1].id}`);
    expect(byActor.body.length).toBe(decided.filter((r) => r.status !== 'pending').length);
    expect(byActor.body.every((e: { action: string }) => e.action.startsWith('account.enable.'))).toBe(true);
    expect(await call(admin, 'GET', '/admin/audit/verify')).toMatchObject({ status: 200, body: { ok: true, count: all.body.length } });
    expect((await call(undefined, 'GET', '/admin/audit')).status).toBe(401);
    expect((await call(admin, 'GET', '/admin/audit?from=yesterday')).body).toMatchObject({ code: 'BAD_INPUT', details: { fields: ['from'] } });
  });

  test('the database refuses to change an entry; a change made anyway is detected', async () => {
    await expect(idp.db.query(`update idp.audit_log set details = '{"reason":"nothing"}' where seq = 2`)).rejects.toThrow(/append-only/);
    await expect(idp.db.query('delete from idp.audit_log where seq = 2')).rejects.toThrow(/append-only/);
    // Someone with the database owner's rights works around the trigger:
    await idp.db.query('alter table idp.audit_log disable trigger audit_log_no_update');
    await idp.db.query(`update idp.audit_log set details = '{"reason":"nothing to see"}' where seq = 2`);
    await idp.db.query('alter table idp.audit_log enable trigger audit_log_no_update');
    expect((await call(admin, 'GET', '/admin/audit/verify')).body).toMatchObject({ ok: false, brokenAt: 2, reason: 'content does not match its hash' });
  });
});

describe('admin.bootstrap', () => {
  test('the first administrator can be opened only while there is none', async () => {
    const { createAccountAdmin } = await import('./accounts.ts');
    const { auditKey, createAuditLog } = await import('../audit/log.ts');
    const auditOptions = { key: auditKey(idp.deps.secrets.internalSecret), cache: idp.deps.cache };
    const { bootstrapAdmin } = await import('./bootstrap.ts');
    const accountAdmin = createAccountAdmin({
      db: idp.db, accounts: undefined as never, audit: createAuditLog(idp.db, auditOptions), notifier: { send: async () => undefined }, clock: idp.deps.clock, log: idp.deps.log,
    });
    // The seeded yw-admin exists: refused.
    await expect(bootstrapAdmin(idp.db, accountAdmin, { username: 'first-admin', name: '首任', agencyCode: DEMO_STAFF[0]!.agencyCode })).rejects.toMatchObject({ code: 'CONFLICT' });
    const { rows } = await idp.db.query('select 1 from idp.accounts where username = $1', ['first-admin']);
    expect(rows).toHaveLength(0);
    // A fresh installation (no enabled administrator): opened, with an initial password and an audit entry.
    await idp.db.query(`update idp.accounts set disabled = true where 'admin' = any(roles)`);
    const r = await bootstrapAdmin(idp.db, accountAdmin, { username: 'first-admin', name: '首任', agencyCode: DEMO_STAFF[0]!.agencyCode });
    expect(r).toMatchObject({ username: 'first-admin', initialPassword: expect.stringMatching(/.{16,}/) });
    expect(await createAuditLog(idp.db, auditOptions).query({ actorId: 'bootstrap' })).toEqual([expect.objectContaining({ action: 'account.open', target: r.id })]);
  });
});
