/**
 * Partner sites as two partners and a browser see them: registration through
 * the admin API, single sign-on (the second partner needs no credentials), pairwise subjects,
 * remembered consent across sessions, UserInfo claims by scope, RP-initiated logout with
 * back-channel logout to every partner in the session, and the refusals.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { DEMO_CITIZEN } from '../../kernel/demo.ts';
import { idNumberCheckDigit } from '../../kernel/ids.ts';
import { IDENTITY_HEADER, operationHash, signIdentity } from '../../kernel/internal-auth.ts';
import {
  CookieJar, adminCall, adminToken, browserFetch, parseForms, partnerCodeFlow, registerPerson, startTestIdp,
  type PartnerFlowOptions, type TestIdp,
} from '../../test/support/oidc.ts';
import { DEMO_ADMIN_PASSWORD } from '../admin/seed.ts';
import { creditCode, insertCompany } from '../../test/support/idp/companies.ts';

const GATEWAY = 'http://127.0.0.1:4000/graphql';
const A_CB = 'https://a.partner.test/cb';
const B_CB = 'https://b.partner.test/cb';

let idp: TestIdp;
let admin: string;
let bcl: Server;
let bclUrl: string;
const logoutTokens: Array<{ path: string; token: string }> = [];
let A: { client_id: string; client_secret: string };
let B: { client_id: string; client_secret: string };

beforeAll(async () => {
  // The partners' back-channel endpoint below listens on loopback: allowed explicitly.
  idp = await startTestIdp({ env: { GATEWAY_RESOURCE: GATEWAY, IDP_OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8' } });
  bcl = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => { data += c.toString(); });
    req.on('end', () => {
      logoutTokens.push({ path: req.url ?? '', token: new URLSearchParams(data).get('logout_token') ?? '' });
      res.statusCode = 200;
      res.end();
    });
  });
  await new Promise<void>((r) => bcl.listen(0, '127.0.0.1', () => r()));
  bclUrl = `http://127.0.0.1:${(bcl.address() as AddressInfo).port}`;
  admin = await adminToken(idp.issuer, 'yw-admin', DEMO_ADMIN_PASSWORD);
  const reg = async (name: string, cb: string, path: string) => {
    const r = await adminCall(idp.issuer, admin, 'POST', '/admin/clients', {
      client_name: name, redirect_uris: [cb], post_logout_redirect_uris: [new URL('/', cb).href],
      backchannel_logout_uri: `${bclUrl}${path}`, scope: 'openid profile phone yw_identity yw_companies',
    });
    expect(r.status).toBe(201);
    return r.body as { client_id: string; client_secret: string };
  };
  A = await reg('合作网站甲 / Partner A', A_CB, '/a');
  B = await reg('合作网站乙 / Partner B', B_CB, '/b');
});
afterAll(async () => {
  await idp?.close();
  await new Promise((r) => bcl?.close(r));
});

const partnerLogin = (p: { client_id: string; client_secret: string }, redirectUri: string, jar: CookieJar, o: PartnerFlowOptions = {}) =>
  partnerCodeFlow(idp.issuer, p, redirectUri, jar, { login: DEMO_CITIZEN.mobile, password: DEMO_CITIZEN.password, ...o });

describe('partners.registration', () => {
  test('the admin API registers a confidential, pairwise client and shows the secret only once', async () => {
    const listed = await adminCall(idp.issuer, admin, 'GET', `/admin/clients/${A.client_id}`);
    expect(listed.status).toBe(200);
    expect(listed.body.metadata).toMatchObject({ subject_type: 'pairwise', token_endpoint_auth_method: 'client_secret_basic', redirect_uris: [A_CB] });
    expect(JSON.stringify(listed.body)).not.toContain(A.client_secret);
    // At rest the secret is encrypted: the database row does not contain it.
    const { rows } = await idp.db.query<{ metadata: unknown }>('select metadata from idp.partner_clients where client_id = $1', [A.client_id]);
    expect(JSON.stringify(rows[0]!.metadata)).not.toContain(A.client_secret);
    // A wrong secret is refused at the token endpoint.
    const wrong = await fetch(new URL('/token', idp.issuer), {
      method: 'POST', body: 'grant_type=authorization_code&code=x&redirect_uri=https%3A%2F%2Fa.partner.test%2Fcb',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${A.client_id}:wrong`).toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });
    const all = await adminCall(idp.issuer, admin, 'GET', '/admin/clients');
    expect(all.body.map((c: { clientId: string }) => c.clientId)).toEqual(expect.arrayContaining([A.client_id, B.client_id]));
  });

  test('bad metadata is BAD_INPUT naming the field, and nothing is stored', async () => {
    const before = (await adminCall(idp.issuer, admin, 'GET', '/admin/clients')).body.length;
    for (const body of [
      { client_name: 'x', redirect_uris: ['not a url'] },
      { client_name: 'x', redirect_uris: [A_CB], scope: 'openid root' },
      { client_name: 'x', redirect_uris: [A_CB], extra: 1 },
      { redirect_uris: [A_CB] },
    ]) {
      const r = await adminCall(idp.issuer, admin, 'POST', '/admin/clients', body);
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('BAD_INPUT');
    }
    expect((await adminCall(idp.issuer, admin, 'GET', '/admin/clients')).body).toHaveLength(before);
  });

  test('without an administrator token: 401; with a citizen or case-handler token: 403', async () => {
    expect((await adminCall(idp.issuer, undefined, 'POST', '/admin/clients', { client_name: 'x', redirect_uris: [A_CB] })).body.code).toBe('UNAUTHENTICATED');
    expect((await adminCall(idp.issuer, 'not.a.token', 'GET', '/admin/clients')).body.code).toBe('TOKEN_INVALID');
    const citizen = await adminToken(idp.issuer, DEMO_CITIZEN.mobile, DEMO_CITIZEN.password);
    const r = await adminCall(idp.issuer, citizen, 'GET', '/admin/clients');
    expect(r).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
  });
});

describe('partners.sso', () => {
  test('the second partner needs no credentials; subjects are pairwise per partner and stable', async () => {
    const jar = new CookieJar();
    const a = await partnerLogin(A, A_CB, jar);
    expect(a.pages).toMatchObject({ login: 1, consent: 1 });
    // Same browser, other partner: no login page at all (a wrong password would fail if asked).
    const b = await partnerLogin(B, B_CB, jar, { password: 'never-asked' });
    expect(b.pages).toMatchObject({ login: 0, consent: 1 });
    const subA = a.tokens!.claims()!.sub;
    const subB = b.tokens!.claims()!.sub;
    expect(subA).not.toBe(subB);
    expect([subA, subB]).not.toContain(DEMO_CITIZEN.id);
    // Again at A in the same session: neither page, same subject.
    const again = await partnerLogin(A, A_CB, jar, { password: 'never-asked' });
    expect(again.pages).toMatchObject({ login: 0, consent: 0 });
    expect(again.tokens!.claims()!.sub).toBe(subA);
    // The portal keeps the public subject.
    expect(DEMO_CITIZEN.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('clients registered in one sector share the pairwise subject; other sectors do not', async () => {
    const reg = async (cb: string) => (await adminCall(idp.issuer, admin, 'POST', '/admin/clients', { client_name: 'Sector', redirect_uris: [cb], sector: 'gjj.example' })).body as { client_id: string; client_secret: string };
    const one = await reg('https://one.gjj.test/cb');
    const two = await reg('https://two.gjj.test/cb');
    const jar = new CookieJar();
    const s1 = (await partnerLogin(one, 'https://one.gjj.test/cb', jar)).tokens!.claims()!.sub;
    const s2 = (await partnerLogin(two, 'https://two.gjj.test/cb', jar)).tokens!.claims()!.sub;
    const sa = (await partnerLogin(A, A_CB, jar)).tokens!.claims()!.sub;
    expect(s1).toBe(s2);
    expect(s1).not.toBe(sa);
  });

  test('consent is remembered per client and scope across sessions; a new scope asks again', async () => {
    const u = { name: '钱七', idNumber: `11010519900307123${idNumberCheckDigit('11010519900307123')}`, mobile: '13911112222', password: 'Partner#2026x' };
    const { id } = await registerPerson(idp.issuer, u);
    const first = await partnerLogin(A, A_CB, new CookieJar(), { login: u.mobile, password: u.password });
    expect(first.pages).toMatchObject({ login: 1, consent: 1 });
    const second = await partnerLogin(A, A_CB, new CookieJar(), { login: u.mobile, password: u.password });
    expect(second.pages).toMatchObject({ login: 1, consent: 0 });
    const wider = await partnerLogin(A, A_CB, new CookieJar(), { login: u.mobile, password: u.password, scope: 'openid profile phone' });
    expect(wider.pages).toMatchObject({ login: 1, consent: 1 });
    // Another partner has its own consent.
    const other = await partnerLogin(B, B_CB, new CookieJar(), { login: u.mobile, password: u.password });
    expect(other.pages).toMatchObject({ login: 1, consent: 1 });
    // The person sees and withdraws it through the identity subgraph (as the gateway calls it).
    const asPerson = async (query: string) => {
      const caller = { kind: 'person' as const, sub: id, name: u.name };
      const res = await fetch(new URL('/graphql', idp.issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: await signIdentity(idp.deps.internalKey, caller, operationHash(query, {})) },
        body: JSON.stringify({ query, variables: {} }),
      });
      return (await res.json() as { data: Record<string, any> }).data;
    };
    const seen = await asPerson('{ me { consents { clientId clientName scopes } } }');
    expect(seen.me.consents).toEqual(expect.arrayContaining([{ clientId: A.client_id, clientName: '合作网站甲 / Partner A', scopes: ['openid', 'phone', 'profile'] }]));
    expect(await asPerson(`mutation { withdrawConsent(clientId: "${A.client_id}") }`)).toEqual({ withdrawConsent: true });
    const asked = await partnerLogin(A, A_CB, new CookieJar(), { login: u.mobile, password: u.password });
    expect(asked.pages).toMatchObject({ login: 1, consent: 1 });
  });

  test('UserInfo releases claims by scope: name, masked ID number, phone, level, companies', async () => {
    const company = creditCode('91330106MA2D00000');
    await insertCompany(idp.db, company, DEMO_CITIZEN.id, '示例餐饮有限公司');
    const r = await partnerLogin(A, A_CB, new CookieJar(), { scope: 'openid profile phone yw_identity yw_companies' });
    const info = await client.fetchUserInfo(r.config, r.tokens!.access_token, r.tokens!.claims()!.sub);
    // Whether the demo mobile is verified depends on how the account was proven: read it.
    const { rows } = await idp.db.query<{ factors: Array<{ type: string; verified: boolean }> | string }>('select factors from idp.accounts where id = $1', [DEMO_CITIZEN.id]);
    const factors = typeof rows[0]!.factors === 'string' ? JSON.parse(rows[0]!.factors) as Array<{ type: string; verified: boolean }> : rows[0]!.factors;
    expect(info).toMatchObject({
      sub: r.tokens!.claims()!.sub, name: DEMO_CITIZEN.name, phone_number: DEMO_CITIZEN.mobile,
      phone_number_verified: factors.some((f) => f.type === 'mobile' && f.verified),
      yw_id_number_masked: `${DEMO_CITIZEN.idNumber.slice(0, 6)}********${DEMO_CITIZEN.idNumber.slice(14)}`,
      yw_kind: 'person', yw_companies: [{ creditCode: company, name: '示例餐饮有限公司', relation: 'legal-representative' }],
    });
    expect(info.yw_loa).toMatch(/^urn:yiwang:loa:[2-5]$/);
    expect(JSON.stringify(info)).not.toContain(DEMO_CITIZEN.idNumber);
    const narrow = await partnerLogin(A, A_CB, new CookieJar(), { scope: 'openid' });
    const little = await client.fetchUserInfo(narrow.config, narrow.tokens!.access_token, narrow.tokens!.claims()!.sub);
    expect(Object.keys(little)).toEqual(['sub']);
  });

  test('a partner gets no token for the graph (invalid_target) and its access token is not a JWT', async () => {
    const r = await partnerLogin(A, A_CB, new CookieJar(), { resource: GATEWAY });
    expect(r.callback.searchParams.get('error')).toBe('invalid_target');
    const ok = await partnerLogin(A, A_CB, new CookieJar());
    expect(ok.tokens!.access_token.split('.')).not.toHaveLength(3);
  });

  test('a disabled partner client cannot start a login; re-enabled it can', async () => {
    expect((await adminCall(idp.issuer, admin, 'POST', `/admin/clients/${B.client_id}/disable`, {})).status).toBe(200);
    const res = await fetch(new URL(`/auth?client_id=${B.client_id}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(B_CB)}`, idp.issuer), { redirect: 'manual' });
    expect(res.status).toBe(400);
    await res.body?.cancel();
    expect((await adminCall(idp.issuer, admin, 'POST', `/admin/clients/${B.client_id}/enable`, {})).status).toBe(200);
    expect((await partnerLogin(B, B_CB, new CookieJar())).tokens).toBeDefined();
  });
});

describe('partners.logout', () => {
  test('RP-initiated logout ends the session and sends a back-channel logout token to every partner', async () => {
    const jar = new CookieJar();
    const a = await partnerLogin(A, A_CB, jar);
    const b = await partnerLogin(B, B_CB, jar, { password: 'never-asked' });
    logoutTokens.length = 0;
    const end = new URL('/session/end', idp.issuer);
    end.searchParams.set('client_id', A.client_id);
    end.searchParams.set('id_token_hint', a.tokens!.id_token!);
    end.searchParams.set('post_logout_redirect_uri', 'https://a.partner.test/');
    const page = await browserFetch(jar, end);
    expect(page.status).toBe(200);
    const form = parseForms(await page.text())[0]!;
    const done = await browserFetch(jar, new URL(form.action, end), { form: { ...form.fields, logout: 'yes' } });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toMatch(/^https:\/\/a\.partner\.test\//);
    expect(logoutTokens.map((t) => t.path).sort()).toEqual(['/a', '/b']);
    const jwks = createRemoteJWKSet(new URL('/jwks', idp.issuer));
    for (const [p, r, cid] of [['/a', a, A.client_id], ['/b', b, B.client_id]] as const) {
      const { payload } = await jwtVerify(logoutTokens.find((t) => t.path === p)!.token, jwks, { issuer: idp.issuer, audience: cid });
      expect(payload.sub).toBe(r.tokens!.claims()!.sub);
      expect(payload.events).toHaveProperty(['http://schemas.openid.net/event/backchannel-logout']);
      expect(payload.sid).toBe(r.tokens!.claims()!.sid);
    }
    // The session is gone: the next partner login asks for credentials again.
    const after = await partnerLogin(A, A_CB, jar);
    expect(after.pages.login).toBe(1);
  });
});
