/**
 * Names at every door of the IdP (kernel/names.ts): a name carrying invisible format characters
 * (Unicode Cf — `\u202E三张\u200B` renders as 张三) is refused with BAD_INPUT and nothing is stored,
 * whether typed at self-registration (JSON and the form), at a counter, for a company (online and
 * at a counter), for a staff account, or vouched for by a linked real-name platform; a name in
 * decomposed form is kept in NFC.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../kernel/config.ts';
import { DEMO_CITIZEN, DEMO_STAFF } from '../../kernel/demo.ts';
import { newCitizen } from '../../test/journey.ts';
import {
  CookieJar, adminCall, adminToken, browserFetch, callApi, loginWithPkce, pageErrorCode, parseForms, postRegistration, registerPerson, startTestIdp, type TestIdp,
} from '../../test/support/oidc.ts';
import { AGREEMENT } from './store.ts';
import { DEMO_ADMIN_PASSWORD } from '../admin/seed.ts';
import { readIdentity } from '../link/identity.ts';
import { loadUpstreams } from '../link/upstreams.ts';
import { NATIONAL } from '../../test/support/idp/platforms.ts';

const SPOOF = '\u202E三张\u200B';
const REDIRECT = 'http://127.0.0.1:3000/callback';

let idp: TestIdp;
beforeAll(async () => { idp = await startTestIdp({ env: { IDP_OTP_RESEND_SECONDS: '0' } }); });
afterAll(async () => { await idp?.close(); });

const count = async (table: string) => Number((await idp.db.query<{ n: number }>(`select count(*)::int as n from idp.${table}`)).rows[0]!.n);
const token = async (login: string, password: string) => (await loginWithPkce({ issuer: idp.issuer, redirectUri: REDIRECT, login, password })).access_token;
const staff = (role: string) => DEMO_STAFF.find((s) => s.roles.includes(role as never))!;
const refusal = { code: 'BAD_INPUT', details: expect.objectContaining({ fields: ['name'], reason: 'format-character' }) };

describe('idp.names', () => {
  test('self-registration (JSON): a name with a bidi override and a zero-width space is BAD_INPUT, nothing stored', async () => {
    const before = await count('accounts');
    for (const name of [SPOOF, '张\u200B三', '\u2066张三\u2069', '张三\u00AD']) {
      const r = await postRegistration(idp.issuer, { ...newCitizen(), name, factorType: 'socialSecurityCard', factorValue: 'A12345678', agreementVersion: AGREEMENT.version });
      expect([name, r.status, r.body]).toEqual([name, 400, expect.objectContaining(refusal)]);
    }
    expect(await count('accounts')).toBe(before);
  });

  test('self-registration keeps a name in NFC: the decomposed form registers as the composed one', async () => {
    const c = { ...newCitizen(), name: 'Zoe\u0308 Li' };
    const { id } = await registerPerson(idp.issuer, c);
    const row = (await idp.db.query<{ name: string }>('select name from idp.accounts where id = $1', [id])).rows[0]!;
    expect(row.name).toBe('Zoë Li');
  });

  test('self-registration (the form): the page comes back with BAD_INPUT, nothing stored', async () => {
    const jar = new CookieJar();
    const form = parseForms(await (await browserFetch(jar, new URL('/register', idp.issuer))).text()).find((f) => f.action === '/register')!;
    const before = await count('accounts');
    const c = newCitizen();
    const res = await browserFetch(jar, new URL('/register', idp.issuer), {
      form: { ...form.fields, name: SPOOF, idNumber: c.idNumber, mobile: c.mobile, factorType: 'socialSecurityCard', factorValue: 'A12345678', password: c.password, agreementVersion: AGREEMENT.version },
    });
    expect([res.status, pageErrorCode(await res.text())]).toEqual([400, 'BAD_INPUT']);
    expect(await count('accounts')).toBe(before);
  });

  test('counter registration of a person, and of a company, refuse such names', async () => {
    const receiver = await token(staff('receiver').username, staff('receiver').password);
    const c = newCitizen();
    const before = await count('accounts');
    expect((await callApi(idp.issuer, 'POST', '/counter/persons', { token: receiver, body: { name: SPOOF, idNumber: c.idNumber, mobile: c.mobile } })).body).toMatchObject(refusal);
    expect(await count('accounts')).toBe(before);
    const companies = await count('companies');
    const company = { creditCode: '91330106MA2B000022', name: '杭州窗口示范\u200B有限公司', legalRepIdNumber: DEMO_CITIZEN.idNumber };
    expect((await callApi(idp.issuer, 'POST', '/counter/companies', { token: receiver, body: company })).body).toMatchObject(refusal);
    expect(await count('companies')).toBe(companies);
  });

  test('company binding online refuses a company name with a format character', async () => {
    const citizen = await token(DEMO_CITIZEN.idNumber, DEMO_CITIZEN.password);
    const before = await count('companies');
    const r = await callApi(idp.issuer, 'POST', '/account/api/companies', { token: citizen, body: { creditCode: '91330106MA2B000022', name: '\u202E司公限有范示网一州杭', agreementVersion: AGREEMENT.version } });
    expect([r.status, r.body]).toEqual([400, expect.objectContaining(refusal)]);
    expect(await count('companies')).toBe(before);
  });

  test('a staff account\'s name is held to the same rule', async () => {
    const admin = await adminToken(idp.issuer, 'yw-admin', DEMO_ADMIN_PASSWORD);
    const r = await adminCall(idp.issuer, admin, 'POST', '/admin/accounts', { username: 'hz-spoof', name: SPOOF, agencyCode: DEMO_STAFF[0]!.agencyCode, roles: ['receiver'] });
    expect([r.status, r.body.code]).toEqual([400, 'BAD_INPUT']);
    expect((await idp.db.query('select 1 from idp.accounts where username = $1', ['hz-spoof'])).rows).toHaveLength(0);
  });

  test('a partner\'s name, shown on the login and consent pages, is held to the same rule', async () => {
    const admin = await adminToken(idp.issuer, 'yw-admin', DEMO_ADMIN_PASSWORD);
    const spoofed = await adminCall(idp.issuer, admin, 'POST', '/admin/clients', { client_name: '\u202E户门办通网一', redirect_uris: ['https://partner.test/cb'] });
    expect([spoofed.status, spoofed.body.code]).toEqual([400, 'BAD_INPUT']);
    const ok = await adminCall(idp.issuer, admin, 'POST', '/admin/clients', { client_name: 'Cafe\u0301 / 咖啡', redirect_uris: ['https://partner.test/cb'] });
    expect([ok.status, ok.body.metadata.client_name]).toEqual([201, 'Café / 咖啡']);
  });

  test('linked registration: a platform vouching for such a name has not vouched for a name', () => {
    const u = loadUpstreams(loadConfig({ NODE_ENV: 'test', IDP_UPSTREAMS: JSON.stringify([{
      id: 'p', name: NATIONAL.name, issuer: 'https://p.example', clientId: 'c', clientSecret: 's'.repeat(20), level: 4, attributes: ['name', 'idNumber'], tier: 'provincial', region: '330000',
    }]) }))[0]!;
    const read = (name: string) => readIdentity(u, {
      issuer: 'https://p.example', subject: 's', acr: undefined, now: new Date('2026-05-01T00:00:00Z'),
      userinfo: { verified_claims: { verification: { trust_framework: 'cn_realname' }, claims: { name, yw_id_number: '33010619900101123X' } } },
    });
    expect(() => read(SPOOF)).toThrow(expect.objectContaining({ code: 'UPSTREAM_ATTRIBUTE_UNVERIFIED', details: expect.objectContaining({ missing: ['name'] }) }));
    expect(read('Zoe\u0308').name).toBe('Zoë');
  });
});
