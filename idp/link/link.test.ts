/**
 * R-ID-3 linked registration, with a second real IdP of this platform playing the national
 * platform (test/support/idp/platforms.ts): registration by taking the identity it verified (agreement
 * only, ID number masked), what is recorded, logging in through it later, linking an existing
 * account after a normal login, our IdP releasing the full ID number only to a client marked as
 * a trusted real-name platform, and every refusal: an ID number known here, a platform not
 * configured or unreachable, an attribute not vouched for, a replayed, forged, foreign or
 * tampered callback (state, nonce, issuer), a denied consent, another person's identity; removing
 * a link (own only, audited, never the last way to log in).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createSecretKey } from 'node:crypto';
import * as client from 'openid-client';
import { systemClock } from '../../kernel/clock.ts';
import { loadConfig } from '../../kernel/config.ts';
import { maskIdNumber } from '../../kernel/ids.ts';
import { newCitizen } from '../../test/journey.ts';
import {
  BrowserFlow, CookieJar, adminCall, adminToken, authorizeInBrowser, browserFetch, callApi, pageErrorCode, parseForms, partnerCodeFlow, registerPerson,
} from '../../test/support/oidc.ts';
import { DEMO_ADMIN_PASSWORD } from '../admin/seed.ts';
import { AGREEMENT, createAccountStore } from '../accounts/store.ts';
import { CSRF_FIELD } from '../web/csrf.ts';
import { stateKey } from './flow.ts';
import { readIdentity } from './identity.ts';
import { NATIONAL, startPlatforms, throughPlatform, type Platforms } from '../../test/support/idp/platforms.ts';
import { loadUpstreams } from './upstreams.ts';

let p: Platforms;
beforeAll(async () => { p = await startPlatforms(); }, 60_000);
afterAll(async () => { await p?.close(); });

const cityUrl = (path: string) => new URL(path, p.city.issuer);
const count = async (table: string) => Number((await p.city.db.query<{ n: number }>(`select count(*)::int as n from idp.${table}`)).rows[0]!.n);
async function nationalPerson() {
  const c = newCitizen();
  await registerPerson(p.national.issuer, c);
  return c;
}
/** Accept the agreement on the page city shows. */
async function accept(jar: CookieJar, page: { url: URL; html: string }, fields: Record<string, string> = { agreementVersion: AGREEMENT.version }) {
  const f = parseForms(page.html).find((x) => x.action === '/register/link');
  if (!f) throw new Error(`no agreement form (${pageErrorCode(page.html) ?? 'no code'})`);
  const res = await browserFetch(jar, new URL(f.action, page.url), { form: { ...f.fields, ...fields } });
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}

describe('link.register', () => {
  test('R-ID-3: the national platform vouches; city shows it masked and, after the agreement only, creates the account with what was verified, by whom and when', async () => {
    const c = await nationalPerson();
    const jar = new CookieJar();
    const page = await throughPlatform(p, jar, cityUrl(`/register/link/${NATIONAL.id}`), { login: c.idNumber, password: c.password });
    expect(page).toMatchObject({ status: 200 });
    expect(page.url.pathname).toBe('/register/link');
    expect(page.html).toContain(maskIdNumber(c.idNumber));
    expect(page.html).not.toContain(c.idNumber);
    expect(page.html).toContain(c.name);
    const before = await count('accounts');
    // Nothing is created before the agreement is accepted.
    expect((await accept(jar, page, {})).status).toBe(400);
    expect(await count('accounts')).toBe(before);
    const done = await accept(jar, page);
    expect(done.status).toBe(201);
    const row = (await p.city.db.query<Record<string, any>>('select * from idp.accounts where id_number = $1', [c.idNumber])).rows[0]!;
    expect(row).toMatchObject({
      name: c.name, mobile: c.mobile, proofing: 'linked', assurance_level: 3, password_hash: null, agreement_version: AGREEMENT.version,
      registered_platform: 'hangzhou', registered_tier: 'municipal',
    });
    expect(row.factors).toEqual([
      { type: 'idNumber', last4: c.idNumber.slice(-4), verified: true, at: expect.any(String), source: `upstream:${NATIONAL.id}` },
      { type: 'mobile', last4: c.mobile.slice(-4), verified: true, at: expect.any(String), source: `upstream:${NATIONAL.id}` },
    ]);
    const link = (await p.city.db.query<Record<string, any>>('select * from idp.account_links where account_id = $1', [row.id])).rows[0]!;
    expect(link).toMatchObject({ upstream: NATIONAL.id, issuer: p.national.issuer, tier: 'national', region: '100000', level: 3, via: 'registration' });
    // The pending registration is used up.
    expect((await accept(jar, page)).html).toContain('LINK_STATE_INVALID');
  });
});

/** The platform link on a city login page. */
const platformHref = (html: string, id = NATIONAL.id) => /href="(\/interaction\/[^"]+\/upstream\/[^"]+)"/.exec(html.replace(/&#x2F;/g, '/'))?.[1]?.replace(/[^/]+$/, id);

/** Log in to city's account pages with a password in `jar`. */
async function cityAccountLogin(jar: CookieJar, login: string, password: string) {
  const callback = await authorizeInBrowser(jar, cityUrl('/account/login'), { redirectUri: `${p.city.issuer}/account/callback`, login, password });
  await (await browserFetch(jar, callback)).body?.cancel();
}

/** The form of /account/links (in `jar`'s session) posting to `action`. */
async function linksForm(jar: CookieJar, action: string) {
  const f = parseForms(await (await browserFetch(jar, cityUrl('/account/links'))).text()).find((x) => x.action === action);
  if (!f) throw new Error(`no form for ${action} on /account/links`);
  return f;
}

describe('link.login', () => {
  test('a person registered through the platform later logs in through it: amr fed, the platform login\'s level', async () => {
    const c = await nationalPerson();
    const jar = new CookieJar();
    await accept(jar, await throughPlatform(p, jar, cityUrl(`/register/link/${NATIONAL.id}`), { login: c.idNumber, password: c.password }));
    const id = (await p.city.db.query<{ id: string }>('select id from idp.accounts where id_number = $1', [c.idNumber])).rows[0]!.id;
    const flow = await BrowserFlow.start(p.city.issuer, { jar });
    const href = platformHref(flow.html);
    expect(href).toBeDefined();
    // Still logged in at the national platform, consent remembered there: straight back.
    await flow.go(await flow.get(href!));
    const tokens = await flow.tokens();
    expect(tokens.claims()).toMatchObject({ sub: id, amr: ['fed'], acr: 'urn:yiwang:loa:3' });
  });

  test('someone the platform knows but city does not registers on the way (agreement) and is logged in', async () => {
    const c = await nationalPerson();
    const jar = new CookieJar();
    const flow = await BrowserFlow.start(p.city.issuer, { jar });
    const page = await throughPlatform(p, jar, new URL(platformHref(flow.html)!, flow.url), { login: c.mobile, password: c.password });
    expect(page.url.pathname).toBe('/register/link');
    const done = await accept(jar, page);
    expect(done.status).toBe(303);
    expect(done.location).toMatch(/\/interaction\/[^/]+\/linked$/);
    await flow.go(await browserFetch(jar, new URL(done.location!, p.city.issuer)));
    const tokens = await flow.tokens();
    expect(tokens.claims()).toMatchObject({ amr: ['fed'] });
    expect((await p.city.db.query('select 1 from idp.accounts where id = $1 and proofing = $2', [tokens.claims()!.sub, 'linked'])).rows).toHaveLength(1);
  });

  test('a client demanding L4 (essential acr) is refused for a platform login at L3 (unmet_authentication_requirements), not stepped up; one only asking (acr_values) gets L3', async () => {
    const c = await nationalPerson();
    const jar = new CookieJar();
    await accept(jar, await throughPlatform(p, jar, cityUrl(`/register/link/${NATIONAL.id}`), { login: c.idNumber, password: c.password }));
    const demanding = await BrowserFlow.start(p.city.issuer, {
      jar, params: { claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:yiwang:loa:4'] } } }) },
    });
    await demanding.go(await demanding.get(platformHref(demanding.html)!));
    expect(demanding.callback?.searchParams.get('error')).toBe('unmet_authentication_requirements');

    const asking = await BrowserFlow.start(p.city.issuer, { jar, params: { acr_values: 'urn:yiwang:loa:4' } });
    if (!asking.callback && platformHref(asking.html)) await asking.go(await asking.get(platformHref(asking.html)!));
    // No step-up page (a platform login is not stepped up here), no refusal: the consent, then L3.
    expect(asking.html).not.toContain('unmet_authentication_requirements');
    expect((await asking.tokens()).claims()).toMatchObject({ amr: ['fed'], acr: 'urn:yiwang:loa:3' });
  });
});

describe('link.existing-account', () => {
  test('an ID number registered here is refused (ACCOUNT_EXISTS, with the way to link), then linked after a normal login; the link logs in', async () => {
    const c = await nationalPerson();
    await registerPerson(p.city.issuer, c);
    const before = await count('accounts');
    const refused = await throughPlatform(p, new CookieJar(), cityUrl(`/register/link/${NATIONAL.id}`), { login: c.idNumber, password: c.password });
    expect(refused.status).toBe(409);
    expect(pageErrorCode(refused.html)).toBe('ACCOUNT_EXISTS');
    expect(refused.html).toContain('href="/account/links"');
    expect(await count('accounts')).toBe(before);

    const jar = new CookieJar();
    await cityAccountLogin(jar, c.idNumber, c.password);
    const form = await linksForm(jar, `/account/links/${NATIONAL.id}`);
    const linked = await throughPlatform(p, jar, cityUrl(form.action), { method: 'POST', form: form.fields, login: c.idNumber, password: c.password });
    expect(linked.url.pathname).toBe('/account/links');
    expect(linked.html).toContain(NATIONAL.name.zh);
    const id = (await p.city.db.query<{ id: string }>('select id from idp.accounts where id_number = $1', [c.idNumber])).rows[0]!.id;
    expect((await p.city.db.query('select via from idp.account_links where account_id = $1', [id])).rows).toEqual([{ via: 'link' }]);

    // Linking the same platform again is LINK_EXISTS.
    const again = await throughPlatform(p, jar, cityUrl(form.action), { method: 'POST', form: form.fields });
    expect(pageErrorCode(again.html)).toBe('LINK_EXISTS');

    const flow = await BrowserFlow.start(p.city.issuer, { jar: new CookieJar() });
    // Back at city's consent page for the portal: the flow goes on from there.
    Object.assign(flow, await throughPlatform(p, flow.jar, new URL(platformHref(flow.html)!, flow.url), { login: c.idNumber, password: c.password }));
    expect((await flow.tokens()).claims()).toMatchObject({ sub: id, amr: ['fed'] });
  });

  test('linking an account to a platform account of another person is LINK_IDENTITY_MISMATCH and stores nothing', async () => {
    const mine = newCitizen();
    await registerPerson(p.city.issuer, mine);
    const theirs = await nationalPerson();
    const jar = new CookieJar();
    await cityAccountLogin(jar, mine.idNumber, mine.password);
    const form = parseForms(await (await browserFetch(jar, cityUrl('/account/links'))).text()).find((f) => f.action === `/account/links/${NATIONAL.id}`)!;
    const before = await count('account_links');
    const r = await throughPlatform(p, jar, cityUrl(form.action), { method: 'POST', form: form.fields, login: theirs.idNumber, password: theirs.password });
    expect(r.status).toBe(403);
    expect(pageErrorCode(r.html)).toBe('LINK_IDENTITY_MISMATCH');
    expect(await count('account_links')).toBe(before);
  });
});

/** A person registered at city through the national platform (the agreement accepted in `jar`); its account id. */
async function registeredThroughPlatform(jar: CookieJar, c: { idNumber: string; password: string }) {
  await accept(jar, await throughPlatform(p, jar, cityUrl(`/register/link/${NATIONAL.id}`), { login: c.idNumber, password: c.password }));
  return (await p.city.db.query<{ id: string }>('select id from idp.accounts where id_number = $1', [c.idNumber])).rows[0]!.id;
}
/** A bearer token for the account the national platform logs in (still logged in there, in `jar`). */
async function platformToken(jar: CookieJar) {
  const flow = await BrowserFlow.start(p.city.issuer, { jar });
  await flow.go(await flow.get(platformHref(flow.html)!));
  return (await flow.tokens()).access_token;
}
const removals = async (accountId: string) => (await p.city.db.query<{ details: Record<string, unknown> }>(
  'select details from idp.audit_log where action = $1 and actor_id = $2 and target = $2', ['account.link.remove', accountId])).rows.map((r) => r.details);
const linksOf = async (accountId: string) => (await p.city.db.query<{ upstream: string }>('select upstream from idp.account_links where account_id = $1', [accountId])).rows;

describe('link.remove', () => {
  test('on /account/links: the button removes only this account\'s link (CSRF-bound, audited, factors kept); again is NOT_FOUND; the platform login then no longer reaches the account', async () => {
    // Another person linked to the same platform: untouched by this removal.
    const other = await nationalPerson();
    const otherId = await registeredThroughPlatform(new CookieJar(), other);

    const c = await nationalPerson();
    await registerPerson(p.city.issuer, c);
    const jar = new CookieJar();
    await cityAccountLogin(jar, c.idNumber, c.password);
    const link = await linksForm(jar, `/account/links/${NATIONAL.id}`);
    await throughPlatform(p, jar, cityUrl(link.action), { method: 'POST', form: link.fields, login: c.idNumber, password: c.password });
    const id = (await p.city.db.query<{ id: string }>('select id from idp.accounts where id_number = $1', [c.idNumber])).rows[0]!.id;
    const factors = (await p.city.db.query<{ factors: unknown }>('select factors from idp.accounts where id = $1', [id])).rows[0]!.factors;

    const remove = await linksForm(jar, `/account/links/${NATIONAL.id}/remove`);
    expect(remove.fields).toHaveProperty(CSRF_FIELD);
    const forged = await browserFetch(jar, cityUrl(remove.action), { form: { ...remove.fields, [CSRF_FIELD]: 'x'.repeat(43) } });
    expect(forged.status).toBe(403);
    expect(pageErrorCode(await forged.text())).toBe('FORBIDDEN');
    expect(await linksOf(id)).toEqual([{ upstream: NATIONAL.id }]);

    const done = await browserFetch(jar, cityUrl(remove.action), { form: remove.fields });
    expect(done.status).toBe(200);
    const html = await done.text();
    expect(html).toContain(`已解除与「${NATIONAL.name.zh}」的关联`);
    expect(parseForms(html).map((f) => f.action)).toEqual(expect.arrayContaining([`/account/links/${NATIONAL.id}`]));
    expect(parseForms(html).map((f) => f.action)).not.toContain(remove.action);
    expect(await linksOf(id)).toEqual([]);
    expect(await linksOf(otherId)).toEqual([{ upstream: NATIONAL.id }]);
    expect((await p.city.db.query<{ factors: unknown }>('select factors from idp.accounts where id = $1', [id])).rows[0]!.factors).toEqual(factors);
    expect(await removals(id)).toEqual([{ upstream: NATIONAL.id, issuer: p.national.issuer, via: 'link' }]);

    const again = await browserFetch(jar, cityUrl(remove.action), { form: remove.fields });
    expect(again.status).toBe(404);
    expect(pageErrorCode(await again.text())).toBe('NOT_FOUND');
    expect(await removals(id)).toHaveLength(1);

    // The platform's login is now someone unknown here with an ID number that has an account: ACCOUNT_EXISTS.
    const flow = await BrowserFlow.start(p.city.issuer, { jar: new CookieJar() });
    const refused = await throughPlatform(p, flow.jar, new URL(platformHref(flow.html)!, flow.url), { login: c.idNumber, password: c.password });
    expect(refused.status).toBe(409);
    expect(pageErrorCode(refused.html)).toBe('ACCOUNT_EXISTS');
  });

  test('DELETE /account/api/links/:upstream: the last way to log in (no password, no mobile) is LINK_LAST_LOGIN; a platform not linked NOT_FOUND; no token 401; with a bound mobile 204', async () => {
    // The mobile belongs to another account here, so the platform's account gets none bound.
    const c = await nationalPerson();
    await registerPerson(p.city.issuer, { ...newCitizen(), mobile: c.mobile });
    const jar = new CookieJar();
    const id = await registeredThroughPlatform(jar, c);
    expect((await p.city.db.query('select 1 from idp.accounts where id = $1 and mobile is null and password_hash is null', [id])).rows).toHaveLength(1);
    const token = await platformToken(jar);
    const del = (upstream: string, t: string | null = token) => callApi(p.city.issuer, 'DELETE', `/account/api/links/${upstream}`, t ? { token: t } : {});

    expect(await del(NATIONAL.id)).toMatchObject({ status: 409, body: { code: 'LINK_LAST_LOGIN', details: { upstream: NATIONAL.id } } });
    expect(await del('plain')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect((await del(NATIONAL.id, null)).status).toBe(401);
    expect(await linksOf(id)).toEqual([{ upstream: NATIONAL.id }]);
    expect(await removals(id)).toEqual([]);

    // Registered through the platform with its verified mobile bound: SMS codes still log in, so the link may go.
    const m = await nationalPerson();
    const mJar = new CookieJar();
    const mId = await registeredThroughPlatform(mJar, m);
    const mToken = await platformToken(mJar);
    expect((await del(NATIONAL.id, mToken)).status).toBe(204);
    expect(await linksOf(mId)).toEqual([]);
    expect(await removals(mId)).toEqual([{ upstream: NATIONAL.id, issuer: p.national.issuer, via: 'registration' }]);
    expect((await callApi(p.city.issuer, 'GET', '/account/api/links', { token: mToken })).body.links).toEqual([]);
    expect(await linksOf(id)).toEqual([{ upstream: NATIONAL.id }]);
  });
});

describe('link.refusals', () => {
  test('a platform not configured is UPSTREAM_UNKNOWN; one that does not answer UPSTREAM_UNAVAILABLE', async () => {
    const unknown = await browserFetch(new CookieJar(), cityUrl('/register/link/nosuch'));
    expect(unknown.status).toBe(404);
    expect(pageErrorCode(await unknown.text())).toBe('UPSTREAM_UNKNOWN');
    const offline = await browserFetch(new CookieJar(), cityUrl('/register/link/offline'));
    expect(offline.status).toBe(503);
    expect(pageErrorCode(await offline.text())).toBe('UPSTREAM_UNAVAILABLE');
  });

  test('a platform vouching for nothing (plain claims, masked ID) or for an unverified account is UPSTREAM_ATTRIBUTE_UNVERIFIED; nothing stored', async () => {
    const c = await nationalPerson();
    const before = await count('accounts');
    const plain = await throughPlatform(p, new CookieJar(), cityUrl('/register/link/plain'), { login: c.idNumber, password: c.password });
    expect(plain.status).toBe(400);
    expect(pageErrorCode(plain.html)).toBe('UPSTREAM_ATTRIBUTE_UNVERIFIED');
    // A self-declared (L2) account at the national platform: it releases no verified_claims.
    const l2 = newCitizen();
    await createAccountStore({ db: p.national.db, clock: systemClock, factorKey: createSecretKey(Buffer.alloc(32, 1)) }).upsert({
      id: '0b2f3c4d-0000-4000-8000-00000000aa01', kind: 'person', name: l2.name, idNumber: l2.idNumber, mobile: l2.mobile, username: null,
      agencyCode: null, roles: [], password: l2.password, proofing: 'self-declared',
    });
    const unverified = await throughPlatform(p, new CookieJar(), cityUrl(`/register/link/${NATIONAL.id}`), { login: l2.idNumber, password: l2.password });
    expect(pageErrorCode(unverified.html)).toBe('UPSTREAM_ATTRIBUTE_UNVERIFIED');
    expect(await count('accounts')).toBe(before);
  });

  test('the callback: another browser cannot use it (and does not spoil it), it works once, then a replay is LINK_STATE_INVALID; a forged state too', async () => {
    const c = await nationalPerson();
    const jar = new CookieJar();
    const cb = (await throughPlatform(p, jar, cityUrl(`/register/link/${NATIONAL.id}`), { login: c.idNumber, password: c.password, stopAtCallback: true })).url;
    const stolen = await browserFetch(new CookieJar(), cb);
    expect(stolen.status).toBe(400);
    expect(pageErrorCode(await stolen.text())).toBe('LINK_STATE_INVALID');
    const first = await browserFetch(jar, cb);
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('/register/link');
    const replay = await browserFetch(jar, cb);
    expect(pageErrorCode(await replay.text())).toBe('LINK_STATE_INVALID');
    for (const q of [`code=abc&state=${'x'.repeat(43)}`, 'code=abc', '']) {
      const forged = await browserFetch(jar, cityUrl(`/link/callback?${q}`));
      expect(pageErrorCode(await forged.text())).toBe('LINK_STATE_INVALID');
    }
  });

  test('a callback naming another issuer (mix-up), a tampered nonce, a code from another round trip or a denied consent is LINK_CALLBACK_INVALID', async () => {
    const c = await nationalPerson();
    const before = await count('accounts');
    const jar = new CookieJar();
    const start = () => throughPlatform(p, jar, cityUrl(`/register/link/${NATIONAL.id}`), { login: c.idNumber, password: c.password, stopAtCallback: true }).then((s) => s.url);
    const code = async (u: URL) => { const r = await browserFetch(jar, u); return { status: r.status, code: pageErrorCode(await r.text()) }; };

    const mixUp = await start();
    mixUp.searchParams.set('iss', p.city.issuer);
    expect(await code(mixUp)).toEqual({ status: 400, code: 'LINK_CALLBACK_INVALID' });

    const nonce = await start();
    const key = stateKey(nonce.searchParams.get('state')!);
    const started = JSON.parse((await p.city.cache.get(key))!) as { nonce: string };
    await p.city.cache.set(key, JSON.stringify({ ...started, nonce: client.randomNonce() }), { ttlSeconds: 60 });
    expect(await code(nonce)).toEqual({ status: 400, code: 'LINK_CALLBACK_INVALID' });

    const one = await start();
    const two = await start();
    two.searchParams.set('code', one.searchParams.get('code')!);
    expect(await code(two)).toEqual({ status: 400, code: 'LINK_CALLBACK_INVALID' });

    const other = await nationalPerson();
    const denied = await throughPlatform(p, new CookieJar(), cityUrl(`/register/link/${NATIONAL.id}`), { login: other.mobile, password: other.password, consent: 'deny' });
    expect(pageErrorCode(denied.html)).toBe('LINK_CALLBACK_INVALID');
    expect(await count('accounts')).toBe(before);
  });
});

describe('link.upstream-release', () => {
  test('our IdP releases the full ID number (verified_claims) only to a client registered as a real-name platform; partners keep the masked one', async () => {
    const c = await nationalPerson();
    const realname = await partnerCodeFlow(p.national.issuer, p.realnameClient, p.callback, new CookieJar(), { login: c.idNumber, password: c.password, scope: 'openid yw_realname' });
    const info = await client.fetchUserInfo(realname.config, realname.tokens!.access_token, realname.tokens!.claims()!.sub) as Record<string, any>;
    expect(info.verified_claims).toEqual({
      verification: { trust_framework: 'cn_realname', assurance_level: 'urn:yiwang:loa:3', time: expect.any(String) },
      claims: { name: c.name, yw_id_number: c.idNumber, phone_number: c.mobile },
    });
    const plain = await partnerCodeFlow(p.national.issuer, p.plainClient, p.callback, new CookieJar(), { login: c.idNumber, password: c.password, scope: 'openid profile yw_identity' });
    const plainInfo = await client.fetchUserInfo(plain.config, plain.tokens!.access_token, plain.tokens!.claims()!.sub);
    expect(plainInfo).toMatchObject({ yw_id_number_masked: maskIdNumber(c.idNumber) });
    expect(JSON.stringify(plainInfo)).not.toContain(c.idNumber);
    const asked = await partnerCodeFlow(p.national.issuer, p.plainClient, p.callback, new CookieJar(), { login: c.idNumber, password: c.password, scope: 'openid yw_realname' });
    expect(asked.callback.searchParams.get('error')).toBe('invalid_scope');
  });

  test('yw_realname cannot be given to a partner not registered as a real-name platform', async () => {
    const admin = await adminToken(p.national.issuer, 'yw-admin', DEMO_ADMIN_PASSWORD);
    const r = await adminCall(p.national.issuer, admin, 'POST', '/admin/clients', { client_name: 'x', redirect_uris: ['https://x.test/cb'], scope: 'openid yw_realname' });
    expect(r).toMatchObject({ status: 400, body: { code: 'BAD_INPUT', details: { fields: ['scope'] } } });
  });
});

describe('link.config', () => {
  const base = { id: 'gjzwfw', name: NATIONAL.name, issuer: 'https://tyrz.gjzwfw.gov.cn', clientId: 'c', clientSecret: 's'.repeat(20), level: 3, attributes: ['name', 'idNumber'], tier: 'national', region: '100000' };
  const load = (list: unknown, env: Record<string, string> = {}) => loadUpstreams(loadConfig({ NODE_ENV: 'test', IDP_UPSTREAMS: JSON.stringify(list), ...env }));
  test('a good list loads with its defaults', () => {
    expect(load([base])).toEqual([expect.objectContaining({ scope: 'openid yw_realname', trustFramework: 'cn_realname', idNumberClaim: 'yw_id_number', tokenEndpointAuthMethod: 'client_secret_basic' })]);
  });
  test.each([
    ['not JSON', '[oops'],
    ['no idNumber attribute', [{ ...base, attributes: ['name'] }]],
    ['a level below 3', [{ ...base, level: 2 }]],
    ['two entries with one id', [base, base]],
    ['an unknown member', [{ ...base, extra: 1 }]],
  ])('%s stops the start with CONFIG_INVALID naming IDP_UPSTREAMS', (_l, list) => {
    const value = typeof list === 'string' ? list : JSON.stringify(list);
    expect(() => loadUpstreams(loadConfig({ NODE_ENV: 'test', IDP_UPSTREAMS: value }))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('IDP_UPSTREAMS') }));
  });
  test('production refuses a plain-http issuer', () => {
    const config = { ...loadConfig({ NODE_ENV: 'test' }), NODE_ENV: 'production' as const, IDP_UPSTREAMS: JSON.stringify([{ ...base, issuer: 'http://tyrz.example' }]) };
    expect(() => loadUpstreams(config)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('link.identity', () => {
  const u = loadUpstreams(loadConfig({ NODE_ENV: 'test', IDP_UPSTREAMS: JSON.stringify([{
    id: 'p', name: NATIONAL.name, issuer: 'https://p.example', clientId: 'c', clientSecret: 's'.repeat(20), level: 4, attributes: ['name', 'idNumber'], tier: 'provincial', region: '330000',
  }]) }))[0]!;
  const now = new Date('2026-05-01T00:00:00Z');
  const vc = (claims: Record<string, unknown>, verification: Record<string, unknown> = {}) => ({ verified_claims: { verification: { trust_framework: 'cn_realname', ...verification }, claims } });
  const read = (userinfo: Record<string, unknown>, acr?: string) => readIdentity(u, { issuer: 'https://p.example', subject: 's', acr, userinfo, now });
  const who = { name: '张三', yw_id_number: '33010619900101123X', phone_number: '13800138000' };

  test('levels are capped at the trusted level; the mobile only when the platform is trusted for it; a future time is now', () => {
    expect(read(vc(who, { assurance_level: 'urn:yiwang:loa:5', time: '2030-01-01T00:00:00Z' }), 'urn:yiwang:loa:5')).toEqual({
      upstream: 'p', issuer: 'https://p.example', subject: 's', name: '张三', idNumber: '33010619900101123X', mobile: null,
      verifiedAt: now.toISOString(), level: 4, loginLevel: 4,
    });
    expect(read(vc(who, { time: '2025-01-01T00:00:00Z' }))).toMatchObject({ level: 4, loginLevel: 3, verifiedAt: '2025-01-01T00:00:00.000Z' });
  });
  test.each([
    ['plain claims only', { name: '张三', yw_id_number: '33010619900101123X' }, ['name', 'idNumber']],
    ['another trust framework', { verified_claims: { verification: { trust_framework: 'eidas' }, claims: who } }, ['name', 'idNumber']],
    ['an ID number with a wrong check digit', vc({ ...who, yw_id_number: '330106199001011230' }), ['idNumber']],
    ['a level below 3', vc(who, { assurance_level: 'urn:yiwang:loa:2' }), ['level']],
  ])('%s is UPSTREAM_ATTRIBUTE_UNVERIFIED', (_l, userinfo, missing) => {
    expect(() => read(userinfo as Record<string, unknown>)).toThrow(expect.objectContaining({ code: 'UPSTREAM_ATTRIBUTE_UNVERIFIED', details: expect.objectContaining({ missing }) }));
  });
});
