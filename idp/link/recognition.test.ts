/**
 * R-ID-12 cross-tier login, "register once, recognised everywhere": a person registered at their
 * home province logs in at another province's platform through the federation (real IdPs, a real
 * national anchor, openid-client as the visiting platform's application): the visiting IdP's
 * relying-party metadata and key, the home's automatic registration of it, the recognised local
 * identity (no form, no password, the home and tier recorded, the level exactly as proven at
 * home, a step-up done at home), refresh re-checked at home, logout both ways, a hybrid city
 * sending its logins and registrations to its province, and each failure with its code.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as client from 'openid-client';
import { decodeStatement, type Json } from '../../federation/index.ts';
import { OffsetClock } from '../../kernel/clock.ts';
import { newCitizen } from '../../test/journey.ts';
import { CookieJar, LoginPageError, browserFetch, loginWithPkce, parseForms, registerPerson } from '../../test/support/oidc.ts';
import { startFederation, type Federation } from '../../test/support/idp/federation.ts';
import { crossTierLogin, homeForm, type CrossTierOptions } from '../../bin/journey/cross-tier.ts';

const APP = 'http://127.0.0.1:3000/callback';
let f: Federation;
const visitingClock = new OffsetClock();
beforeAll(async () => { f = await startFederation({ city: true, visitingClock }); }, 120_000);
afterAll(async () => { await f?.close(); });

async function homePerson() {
  const c = newCitizen();
  await registerPerson(f.home.issuer, c);
  return c;
}
const login = (o: Partial<CrossTierOptions> & { c?: { idNumber: string; password: string } }) => crossTierLogin({
  visiting: f.visiting.issuer, redirectUri: APP, home: f.home.issuer, ...(o.c ? { login: o.c.idNumber, password: o.c.password } : {}), ...o,
});
const codeOf = async (p: Promise<unknown>) => p.then(() => 'no error', (e: { code?: string; message?: string }) => e.code ?? e.message);
const rows = async (t: typeof f.visiting, sql: string, params: unknown[]) => (await t.db.query<Record<string, any>>(sql, params)).rows;

describe('recognition.metadata', () => {
  test('R-ID-12: the visiting IdP publishes openid_relying_party metadata with its own ES256 key, encrypted at rest', async () => {
    const jwt = await (await fetch(`${f.visiting.issuer}/.well-known/openid-federation`)).text();
    const { claims } = decodeStatement(jwt);
    const rp = claims.metadata!.openid_relying_party as Record<string, Json>;
    expect(rp).toMatchObject({
      redirect_uris: [`${f.visiting.issuer}/link/callback`], backchannel_logout_uri: `${f.visiting.issuer}/link/backchannel-logout`,
      post_logout_redirect_uris: [`${f.visiting.issuer}/link/logged-out`], token_endpoint_auth_method: 'private_key_jwt',
      client_registration_types: ['automatic'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    });
    const keys = (rp.jwks as { keys: Array<Record<string, string>> }).keys;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(keys[0]!.d).toBeUndefined();
    // Its own key: not one of the federation keys that sign the Entity Configuration.
    expect(claims.jwks.keys.map((k) => k.kid)).not.toContain(keys[0]!.kid);
    const [stored] = await rows(f.visiting, 'select private_jwk_enc from federation.rp_keys where kid = $1', [keys[0]!.kid]);
    expect(stored!.private_jwk_enc).toMatch(/^eyJ[^.]*\.[^.]+\.[^.]+\.[^.]+\.[^.]+$/);
    expect(stored!.private_jwk_enc).not.toContain(keys[0]!.x);
  });
});

describe('recognition.login', () => {
  test('R-ID-12: registered at home only, the person logs in at the visiting platform: a recognised identity, no form, no password, the level proven at home', async () => {
    const c = await homePerson();
    const jar = new CookieJar();
    const first = await login({ c, jar });
    // The visiting login page once, the home's login and its release of the identity once; no agreement or registration form here.
    expect(first.pages).toMatchObject({ visitingLogin: 1, homeLogin: 1 });
    const claims = first.claims()!;
    expect(claims).toMatchObject({ amr: ['fed'], acr: 'urn:yiwang:loa:3' });
    const [account] = await rows(f.visiting, 'select * from idp.accounts where id_number = $1', [c.idNumber]);
    expect(account).toMatchObject({ id: claims.sub, name: c.name, password_hash: null, agreement_version: null, proofing: 'linked', assurance_level: 3, registered_platform: 'js' });
    const [link] = await rows(f.visiting, 'select * from idp.account_links where account_id = $1', [claims.sub]);
    expect(link).toMatchObject({ via: 'recognition', upstream: 'zj', tier: 'provincial', region: '330000', issuer: f.home.issuer, entity_id: f.home.issuer, trust_anchor: f.national.id, level: 3 });
    expect(link!.subject).not.toBe((await rows(f.home, 'select id from idp.accounts where id_number = $1', [c.idNumber]))[0]!.id); // pairwise at home
    const audit = await rows(f.visiting, "select * from idp.audit_log where action = 'account.recognition.create' and target = $1", [claims.sub]);
    expect(audit).toHaveLength(1);

    // Again (the application asks for a fresh login here), by the ID number as hint, still logged in at home: no page at home, the same identity.
    const again = await login({ jar, home: '', hint: c.idNumber, params: { prompt: 'login' } });
    expect(again.pages).toMatchObject({ visitingLogin: 1, homeLogin: 0, consent: 0 });
    expect(again.claims()).toMatchObject({ sub: claims.sub, amr: ['fed'], acr: 'urn:yiwang:loa:3' });
    expect(await rows(f.visiting, 'select 1 from idp.accounts where id_number = $1', [c.idNumber])).toHaveLength(1);
  });

  test('the login page lists the homes from the directory: not itself, not a hybrid city', async () => {
    const jar = new CookieJar();
    const config = await client.discovery(new URL(f.visiting.issuer), 'yiwang-portal', undefined, client.None(), { execute: [client.allowInsecureRequests] });
    const url = client.buildAuthorizationUrl(config, { redirect_uri: APP, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
    let res = await browserFetch(jar, url);
    while (res.status >= 300 && res.status < 400) res = await browserFetch(jar, new URL(res.headers.get('location')!, url));
    const html = await res.text();
    expect(homeForm(html)).toBeDefined();
    expect(html).toContain('用其他地区平台账号登录');
    const options = [...html.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]!.replace(/&#x2F;/g, '/').replace(/&#x3A;/g, ':'));
    expect(options).toEqual(['', f.home.issuer]);
  });

  test('a service asking for L4 sends the person to step up AT HOME; the visiting platform issues exactly the level proven there', async () => {
    const c = await homePerson();
    await f.home.db.query('update idp.accounts set assurance_level = 4 where id_number = $1', [c.idNumber]);
    const r = await login({ c, params: { acr_values: 'urn:yiwang:loa:4' }, stepUpCode: () => f.home.lastCode(c.mobile) });
    expect(r.claims()).toMatchObject({ amr: ['fed'], acr: 'urn:yiwang:loa:4' });
    const [link] = await rows(f.visiting, 'select level from idp.account_links where issuer = $1 and account_id = $2', [f.home.issuer, r.claims()!.sub]);
    expect(link!.level).toBe(4);
  });

  test('R-ID-12 hybrid mode: people log in at the city through its province (one click at the city) and its registration is the province\'s', async () => {
    const c = await homePerson();
    const r = await crossTierLogin({ visiting: f.city!.issuer, redirectUri: APP, login: c.idNumber, password: c.password });
    expect(r.pages.visitingLogin).toBe(1);
    expect(r.pages.homeLogin).toBe(1);
    expect(r.claims()).toMatchObject({ amr: ['fed'], acr: 'urn:yiwang:loa:3' });
    const [link] = await rows(f.city!, 'select * from idp.account_links where account_id = $1', [r.claims()!.sub]);
    expect(link).toMatchObject({ via: 'recognition', entity_id: f.home.issuer, tier: 'provincial' });
    const reg = await fetch(`${f.city!.issuer}/register`, { redirect: 'manual' });
    expect(reg.status).toBe(302);
    expect(reg.headers.get('location')).toBe(`${f.home.issuer}/register`);
  });
});

describe('recognition.lifecycle', () => {
  test('a home account disabled at home stops working at the visiting platform at the next refresh', async () => {
    const c = await homePerson();
    const r = await login({ c, scope: 'openid profile' });
    expect(r.refresh_token).toBeTruthy();
    // The home's tokens kept for the refresh check are encrypted in the cache.
    const kept = await f.visiting.cache.get(`recog:home:${r.claims()!.sub}`);
    expect(kept).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(kept).not.toMatch(/refreshToken|eyJ/);
    const ok = await client.refreshTokenGrant(r.config, r.refresh_token!);
    await f.home.db.query('update idp.accounts set disabled = true where id_number = $1', [c.idNumber]);
    await expect(client.refreshTokenGrant(r.config, ok.refresh_token ?? r.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // And at the next login: the home refuses the login itself.
    expect(await codeOf(login({ c }))).toBe('ACCOUNT_DISABLED');
  });

  test('logging out at home ends the visiting session by back-channel logout (audited); the visiting refresh stops', async () => {
    const c = await homePerson();
    const jar = new CookieJar();
    const r = await login({ c, jar });
    // RP-initiated logout at the home IdP in the same browser (its confirmation form, "log out everywhere").
    let res = await browserFetch(jar, new URL('/session/end', f.home.issuer));
    const form = parseForms(await res.text()).find((x) => x.action.includes('/session/end/confirm'))!;
    res = await browserFetch(jar, new URL(form.action, f.home.issuer), { form: { ...form.fields, logout: 'yes' } });
    await res.body?.cancel();
    await expect(client.refreshTokenGrant(r.config, r.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const audit = await rows(f.visiting, "select details from idp.audit_log where action = 'account.recognition.logout' and target = $1", [r.claims()!.sub]);
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ home: f.home.issuer, via: 'backchannel' });
  });

  test('logging out at the visiting platform also ends the home session, then returns where the application asked', async () => {
    const c = await homePerson();
    const jar = new CookieJar();
    const r = await login({ c, jar });
    const end = client.buildEndSessionUrl(r.config, { id_token_hint: r.id_token!, post_logout_redirect_uri: 'http://127.0.0.1:3000/' });
    let res = await browserFetch(jar, end);
    let url = end;
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      if (res.status >= 300 && res.status < 400) {
        url = new URL(res.headers.get('location')!, url);
        await res.body?.cancel();
        seen.push(url.origin + url.pathname);
        if (url.origin === 'http://127.0.0.1:3000') break;
        res = await browserFetch(jar, url);
        continue;
      }
      const form = parseForms(await res.text()).find((x) => x.action.includes('/session/end/confirm'));
      if (!form) throw new Error(`no logout form at ${url.href}`);
      url = new URL(form.action, url);
      res = await browserFetch(jar, url, { form: { ...form.fields, logout: 'yes' } });
    }
    expect(seen).toContain(`${f.home.issuer}/session/end`);
    expect(seen).toContain(`${f.visiting.issuer}/link/logged-out`);
    expect(seen.at(-1)).toBe('http://127.0.0.1:3000/');
    // The home session is gone: the next cross-tier login asks for the home login again.
    expect((await login({ c, jar })).pages.homeLogin).toBe(1);
  });
});

describe('recognition.failures', () => {
  test('an unknown platform, or an ID number whose region has no home platform, is RECOGNITION_HOME_UNKNOWN', async () => {
    expect(await codeOf(login({ home: 'http://127.0.0.1:1' }))).toBe('RECOGNITION_HOME_UNKNOWN');
    expect(await codeOf(login({ home: f.visiting.issuer }))).toBe('RECOGNITION_HOME_UNKNOWN'); // not itself
    expect(await codeOf(login({ home: f.city!.issuer }))).toBe('RECOGNITION_HOME_UNKNOWN'); // a hybrid city keeps no accounts
    expect(await codeOf(login({ home: '', hint: '110101199003077777' }))).toBe('RECOGNITION_HOME_UNKNOWN');
    expect(await codeOf(login({ home: '', hint: '' }))).toBe('BAD_INPUT');
  });

  test('a home whose superior stops vouching for it is RECOGNITION_HOME_UNTRUSTED; nothing is created', async () => {
    const c = await homePerson();
    await f.national.entity.registry.remove(f.home.issuer, 'admin-national');
    try {
      await f.forgetChains(f.visiting);
      const e = await login({ c }).catch((x: LoginPageError) => x);
      expect(e).toBeInstanceOf(LoginPageError);
      expect((e as LoginPageError).code).toBe('RECOGNITION_HOME_UNTRUSTED');
    } finally {
      await f.registerAtNational(f.home);
      await f.forgetChains(f.visiting);
      await f.forgetChains(f.home);
    }
    expect(await rows(f.visiting, 'select 1 from idp.accounts where id_number = $1', [c.idNumber])).toHaveLength(0);
  });

  test('a home that is down: the visiting platform says so (RECOGNITION_HOME_UNAVAILABLE); its own users still log in', async () => {
    await f.home.stop();
    try {
      const e = await login({}).catch((x: LoginPageError) => x);
      expect((e as LoginPageError).code).toBe('RECOGNITION_HOME_UNAVAILABLE');
      expect((e as LoginPageError).status).toBe(503);
      const local = newCitizen();
      await registerPerson(f.visiting.issuer, local);
      const r = await loginWithPkce({ issuer: f.visiting.issuer, redirectUri: APP, login: local.idNumber, password: local.password });
      expect(r.claims()!.amr).toEqual(['pwd']);
    } finally {
      await f.home.restart();
    }
  });

  test('a replayed or tampered callback is refused (LINK_STATE_INVALID, LINK_CALLBACK_INVALID); nothing is created', async () => {
    const c = await homePerson();
    let callback: URL | undefined;
    const jar = new CookieJar();
    await login({ c, jar, intercept: (u) => { if (u.pathname === '/link/callback') callback = u; return u; } });
    const replay = await browserFetch(jar, callback!);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('LINK_STATE_INVALID');

    const d = await homePerson();
    const tamper = (name: string, value: string) => (u: URL) => {
      if (u.pathname !== '/link/callback') return u;
      const t = new URL(u);
      t.searchParams.set(name, value);
      return t;
    };
    expect(await codeOf(login({ c: d, intercept: tamper('iss', 'http://127.0.0.1:1') }))).toBe('LINK_CALLBACK_INVALID');
    expect(await codeOf(login({ c: d, intercept: tamper('code', 'forged-code-0123456789') }))).toBe('LINK_CALLBACK_INVALID');
    expect(await codeOf(login({ c: d, intercept: tamper('state', 'A'.repeat(43)) }))).toBe('LINK_STATE_INVALID');
    expect(await rows(f.visiting, 'select 1 from idp.accounts where id_number = $1', [d.idNumber])).toHaveLength(0);
  });

  test('an ID token above the level the home is allowed (its superior\'s policy) is RECOGNITION_LEVEL_INVALID; nothing is created', async () => {
    const c = await homePerson();
    await f.registerAtNational(f.home, { openid_provider: { acr_values_supported: { subset_of: ['urn:yiwang:loa:2'] } } });
    try {
      await f.forgetChains(f.visiting);
      expect(await codeOf(login({ c }))).toBe('RECOGNITION_LEVEL_INVALID');
    } finally {
      await f.registerAtNational(f.home);
      await f.forgetChains(f.visiting);
    }
    expect(await rows(f.visiting, 'select 1 from idp.accounts where id_number = $1', [c.idNumber])).toHaveLength(0);
  });
});

// Last: the visiting platform's clock moves past every statement's expiry (its directory stays empty afterwards).
describe('recognition.expiry', () => {
  test('an expired chain (the visiting platform\'s clock past its statements\' exp) is RECOGNITION_HOME_UNTRUSTED', async () => {
    const c = await homePerson();
    visitingClock.offsetMs = 2 * 3600 * 1000;
    try {
      const e = await login({ c }).catch((x: LoginPageError) => x);
      expect((e as LoginPageError).code).toBe('RECOGNITION_HOME_UNTRUSTED');
      expect((e as LoginPageError).status).toBe(403);
    } finally {
      visitingClock.offsetMs = 0;
    }
    expect(await rows(f.visiting, 'select 1 from idp.accounts where id_number = $1', [c.idNumber])).toHaveLength(0);
  });
});
