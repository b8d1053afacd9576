/**
 * Log in through the IdP's own pages the way a browser does, for tests:
 *
 * - `registerPerson(issuer, fields)`: self-registration through the JSON API (POST /register).
 * - `loginWithPkce({ issuer, redirectUri, resource, login, password })`: openid-client v6 as the
 *   relying party (authorization code + PKCE S256), a small cookie jar and `fetch` with manual
 *   redirects as the browser: follows the redirects, fills in the login form and approves the
 *   consent form with their CSRF tokens, stops at the redirect to `redirectUri`, and redeems the
 *   code. Returns openid-client's token response (access_token = JWT for the gateway,
 *   refresh_token, id_token) with `config` (for refreshTokenGrant / fetchUserInfo) and `tokens`.
 * - `fetchUserInfoFor(result)`: UserInfo needs a token without audience: refresh with an explicit
 *   scope (see idp/oidc/provider.ts), then call UserInfo.
 * - `startTestIdp()`: an IdP on a free port over a fresh test database and cache.
 *
 * A refused login (wrong password, disabled account) throws `LoginPageError` carrying the code the
 * page showed (LOGIN_FAILED, ACCOUNT_DISABLED, FORBIDDEN …).
 */
import * as client from 'openid-client';
import { CookieJar, browserFetch, discoverClient, parseForms, pageErrorCode, LoginPageError, type LoginResult } from '../../bin/journey/browser.ts';
import { AGREEMENT } from '../../idp/accounts/store.ts';
import { loadConfig, type Config } from '../../kernel/config.ts';
import { internalKey } from '../../kernel/internal-auth.ts';
import { silentLogger, type Logger } from '../../kernel/log.ts';
import { systemClock, type Clock } from '../../kernel/clock.ts';
import type { Deps, RunningService } from '../../kernel/service.ts';
import { freePort, TEST_SECRET, testCache, testDb, type TestDb } from './infra.ts';
import type { Cache } from '../../kernel/cache.ts';
import { devNotifier, type SentNotice } from '../../kernel/notify.ts';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// ---------------------------------------------------------------------------------------------
// Registration

export interface PersonFields {
  name: string;
  idNumber: string;
  mobile: string;
  /** One of socialSecurityCard | bankCard | housingFund | drivingLicenceFile. */
  factorType?: string;
  factorValue?: string;
  password: string;
  /** Defaults to the current agreement version (accepted); pass '' to not accept it. */
  agreementVersion?: string;
}

/**
 * The registration SMS code for `mobile` (R-ID-1 proves possession of the mobile): asks POST
 * /register/code, then reads the code from the in-process IdP's development sink. When the IdP
 * refuses a new code (resend throttle, hourly limit) the last one sent is used; undefined when
 * none can be had (the registration then shows the IdP's refusal).
 */
/** The development sink's file the platform writes (NOTIFY_DEV_FILE, default `<DATA_DIR>/notifications.jsonl`). */
async function devSinkFile(): Promise<(() => Promise<SentNotice[]>) | undefined> {
  const { resolve } = await import('node:path');
  const config = loadConfig();
  const file = config.NOTIFY_DEV_FILE ?? join(resolve(config.DATA_DIR), 'notifications.jsonl');
  if (config.NOTIFY_SINK !== 'dev') return undefined;
  return devNotifier({ file, log: silentLogger(), clock: systemClock }).read;
}

/** The last registration code the IdP at `issuer` sent to `mobile` (its development sink), without asking for one. */
export async function sentRegistrationCode(issuer: string, mobile: string): Promise<string | undefined> {
  const { devSink } = await import('../../idp/otp/dev-sinks.ts');
  // An IdP in this process registers its sink; one running in another process (`npm start`,
  // then `npm run journey`) writes the development sink's file, as configured there.
  const read = devSink(issuer) ?? await devSinkFile();
  if (!read) throw new Error(`no development SMS sink for ${issuer} (start the IdP with NOTIFY_SINK=dev; set NOTIFY_DEV_FILE / DATA_DIR as it has them)`);
  const sent = (await read()).filter((n) => n.to === mobile && n.template === 'otp.register');
  return sent.at(-1)?.params?.code;
}

export async function registrationCode(issuer: string, mobile: string): Promise<string | undefined> {
  const res = await fetch(new URL('/register/code', issuer), {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ mobile }),
  });
  await res.body?.cancel();
  return sentRegistrationCode(issuer, mobile);
}

/**
 * POST /register as JSON; the raw answer (201 { id } or problem+json). Without a `mobileCode` in
 * the body, one is fetched for a well-formed mobile (registrationCode); pass `mobileCode` to test
 * the code itself.
 */
export async function postRegistration(issuer: string, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  if (!('mobileCode' in body) && typeof body.mobile === 'string' && /^1[3-9]\d{9}$/.test(body.mobile)) {
    const code = await registrationCode(issuer, body.mobile);
    if (code) body = { ...body, mobileCode: code };
  }
  const res = await fetch(new URL('/register', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

/**
 * Registration with verifiable factors: the development registry (idp/dev-registry.ts) confirms
 * people it does not list, so the mobile and the default social-security card make two.
 */
export async function registerPerson(issuer: string, fields: PersonFields): Promise<{ id: string }> {
  const { status, body } = await postRegistration(issuer, {
    factorType: 'socialSecurityCard', factorValue: 'A12345678', agreementVersion: AGREEMENT.version, ...fields,
  });
  if (status !== 201) throw Object.assign(new Error(`registration refused: ${String(body.code)} ${String(body.title)}`), { code: body.code, status });
  return { id: String(body.id) };
}

// ---------------------------------------------------------------------------------------------
// The browser and the relying party (bin/journey/browser.ts, shared with the journey and the benchmarks)

export {
  CookieJar, browserFetch, parseForms, pageErrorCode, LoginPageError, discoverClient, authorizeInBrowser, loginWithPkce,
  type PageForm, type LoginOptions, type TokenResponse, type LoginResult,
} from '../../bin/journey/browser.ts';

/**
 * UserInfo for a login: refresh with an explicit scope (which yields a token for UserInfo, not
 * for the gateway), then call the endpoint. Refresh tokens rotate: use the returned one next.
 */
export async function fetchUserInfoFor(r: { config: client.Configuration; refresh_token?: string | undefined; claims(): { sub: string } | undefined }, scope = 'openid profile phone') {
  if (!r.refresh_token) throw new Error('no refresh token');
  const refreshed = await client.refreshTokenGrant(r.config, r.refresh_token, { scope });
  const sub = r.claims()?.sub;
  const userinfo = await client.fetchUserInfo(r.config, refreshed.access_token, sub ?? client.skipSubjectCheck);
  return { userinfo, refreshed };
}

// ---------------------------------------------------------------------------------------------
// Step by step: a browser walking an authorization through the IdP's pages, form by form

/**
 * An authorization request in a browser: `start` follows redirects to the first page (login);
 * `submit(actionSuffix, fields)` posts the page's form whose action ends with the suffix (with
 * its hidden fields, e.g. the CSRF token) and follows redirects to the next page or the
 * callback; `tokens()` redeems the code. `status`/`html` describe the page the browser is on.
 */
export class BrowserFlow {
  readonly jar: CookieJar;
  readonly config: client.Configuration;
  readonly redirectUri: string;
  readonly verifier: string;
  readonly state: string;
  url: URL;
  status = 0;
  html = '';
  callback: URL | undefined;

  private constructor(o: { jar: CookieJar; config: client.Configuration; redirectUri: string; verifier: string; state: string; url: URL }) {
    this.jar = o.jar; this.config = o.config; this.redirectUri = o.redirectUri; this.verifier = o.verifier; this.state = o.state; this.url = o.url;
  }

  /** `config`: a relying party of its own (e.g. a confidential partner, discoverConfidentialClient); default the public client `clientId`. */
  static async start(issuer: string, o: { redirectUri?: string; clientId?: string; config?: client.Configuration; scope?: string; params?: Record<string, string>; jar?: CookieJar } = {}): Promise<BrowserFlow> {
    const config = o.config ?? await discoverClient(issuer, o.clientId);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const redirectUri = o.redirectUri ?? 'http://127.0.0.1:3000/callback';
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope: o.scope ?? 'openid profile phone', state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...o.params,
    });
    const flow = new BrowserFlow({ jar: o.jar ?? new CookieJar(), config, redirectUri, verifier, state, url });
    await flow.go(await browserFetch(flow.jar, url));
    return flow;
  }

  /** Follow redirects until a page (or the callback). */
  async go(res: Response): Promise<void> {
    const target = new URL(this.redirectUri);
    for (let i = 0; i < 20; i++) {
      if (res.status >= 300 && res.status < 400) {
        const next = new URL(res.headers.get('location') ?? '', this.url);
        await res.body?.cancel();
        this.url = next;
        if (next.origin === target.origin && next.pathname === target.pathname) {
          this.callback = next;
          this.status = 303;
          this.html = '';
          return;
        }
        res = await browserFetch(this.jar, next);
        continue;
      }
      this.status = res.status;
      this.html = await res.text();
      return;
    }
    throw new Error('too many redirects');
  }

  get errorCode(): string | undefined { return pageErrorCode(this.html); }

  async submit(actionSuffix: string, fields: Record<string, string> = {}): Promise<void> {
    const f = parseForms(this.html).find((x) => x.action.endsWith(actionSuffix));
    if (!f) throw new Error(`no form ending in ${actionSuffix} on the page (HTTP ${this.status} ${this.errorCode ?? ''})`);
    const url = new URL(f.action, this.url);
    this.url = url;
    await this.go(await browserFetch(this.jar, url, { form: { ...f.fields, ...fields } }));
  }

  /** Post to an interaction endpoint the page has no form for (an attacker's request), with the page's CSRF token. */
  async submitTo(actionSuffix: string, fields: Record<string, string> = {}): Promise<void> {
    const f = parseForms(this.html).find((x) => /\/interaction\/[^/]+/.test(x.action));
    if (!f) throw new Error(`no interaction form on the page (HTTP ${this.status} ${this.errorCode ?? ''})`);
    const base = /^(.*\/interaction\/[^/]+)/.exec(f.action)![1]!;
    const url = new URL(`${base}${actionSuffix}`, this.url);
    this.url = url;
    await this.go(await browserFetch(this.jar, url, { form: { ...f.fields, ...fields } }));
  }

  async get(path: string): Promise<Response> {
    return browserFetch(this.jar, new URL(path, this.url));
  }

  /** Approve the consent page if it is shown, then redeem the code. */
  async tokens(): Promise<LoginResult> {
    if (!this.callback && parseForms(this.html).some((x) => x.action.endsWith('/confirm'))) await this.submit('/confirm', { decision: 'approve' });
    if (!this.callback) throw new LoginPageError(this.status, this.html);
    const tokens = await client.authorizationCodeGrant(this.config, this.callback, { pkceCodeVerifier: this.verifier, expectedState: this.state });
    return Object.assign(tokens, { tokens, config: this.config });
  }
}

/** JSON call with a bearer token (the account API, counter, QR approval). */
export async function callApi(issuer: string, method: string, path: string, o: { token?: string; body?: unknown } = {}): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(new URL(path, issuer), {
    method,
    headers: { accept: 'application/json', ...(o.body === undefined ? {} : { 'content-type': 'application/json' }), ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
    ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) as Record<string, any> : {} };
}

// ---------------------------------------------------------------------------------------------
// An IdP for tests

export interface TestIdp {
  issuer: string;
  config: Config;
  deps: Deps;
  db: TestDb;
  cache: Cache & { prefix: string };
  svc: RunningService;
  /** SMS notices the development sink wrote (a file of this IdP's own). */
  notices(): Promise<SentNotice[]>;
  /** The code in the last notice to `mobile` (optionally of one template, e.g. `otp.login`). */
  lastCode(mobile: string, template?: string): Promise<string>;
  /** Stop the service only (db and cache stay): for restart tests. */
  stop(): Promise<void>;
  /** Start it again on the same port, database and cache. */
  restart(): Promise<void>;
  /** Stop, and destroy the database and cache unless they were passed in. */
  close(): Promise<void>;
}

export async function startTestIdp(o: {
  seed?: boolean; env?: Record<string, string>; clock?: Clock; db?: TestDb; cache?: Cache & { prefix: string }; log?: Logger;
  /** A port chosen beforehand when another party must know the issuer first (R-ID-3: the upstream platform registers our callback). */
  port?: number;
  /**
   * The issuer's host name (the server still listens on 127.0.0.1). Browsers share cookies
   * between ports of one host, so two IdPs a browser visits need two names, e.g. `localhost`.
   */
  host?: string;
} = {}): Promise<TestIdp> {
  const { startIdpService } = await import('../../idp/service.ts');
  const port = o.port ?? await freePort();
  const issuer = `http://${o.host ?? '127.0.0.1'}:${port}`;
  const notices = join(tmpdir(), `yiwang-notices-${port}-${process.pid}-${Date.now()}.jsonl`);
  const config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', IDP_ISSUER: issuer, IDP_PORT: String(port),
    GATEWAY_RESOURCE: 'http://127.0.0.1:4000/graphql',
    IDP_PORTAL_REDIRECT_URIS: 'http://127.0.0.1:3000/callback',
    NOTIFY_DEV_FILE: notices,
    ...o.env,
  });
  const db = o.db ?? await testDb();
  const cache = o.cache ?? await testCache();
  const deps: Deps = {
    config,
    secrets: { internalSecret: TEST_SECRET, keyPassphrase: 'test-key-passphrase-0123456789abcdef', cookieKeys: ['test-cookie-key-0123456789abcdef0123'] },
    internalKey: internalKey(TEST_SECRET),
    db, cache, clock: o.clock ?? systemClock, log: o.log ?? silentLogger(),
  };
  const t: TestIdp = {
    issuer, config, deps, db, cache,
    async notices() {
      const text = await readFile(config.NOTIFY_DEV_FILE ?? notices, 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as SentNotice);
    },
    async lastCode(mobile, template) {
      const all = (await t.notices()).filter((n) => n.to === mobile && (!template || n.template === template));
      const code = all.at(-1)?.params?.code;
      if (!code) throw new Error(`no code was sent to ${mobile}${template ? ` (${template})` : ''}`);
      return code;
    },
    svc: await startIdpService(deps, { port, host: '127.0.0.1', seed: o.seed ?? true }),
    async stop() { await t.svc.close(); },
    async restart() {
      // Let clients notice the closed keep-alive sockets first (undici would reuse a dead one).
      await new Promise((r) => setTimeout(r, 100));
      t.svc = await startIdpService(deps, { port, host: '127.0.0.1', seed: o.seed ?? true });
    },
    async close() {
      await t.svc.close().catch(() => undefined);
      if (!o.cache) await cache.close();
      if (!o.db) await db.destroy();
      await rm(notices, { force: true });
    },
  };
  return t;
}

// ---------------------------------------------------------------------------------------------
// Partners and administration: admin tokens and confidential partner clients

/** Issuer of the IdP's admin API resource (idp/partners/hooks.ts adminResource). */
export const adminResourceOf = (issuer: string): string => `${issuer}/admin`;

/**
 * A bearer token for the IdP's admin API: log in through the portal client as a staff account
 * with resource `<issuer>/admin` and scope `admin` (idp/admin/auth.ts).
 */
export async function adminToken(issuer: string, login: string, password: string, o: { newPassword?: string; redirectUri?: string } = {}): Promise<string> {
  const redirectUri = o.redirectUri ?? 'http://127.0.0.1:3000/callback';
  const config = await discoverClient(issuer);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const resource = adminResourceOf(issuer);
  const start = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: 'openid admin', state, resource,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const { callback } = await authorizeCountingPages(new CookieJar(), start, redirectUri, login, password, o.newPassword);
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }, { resource });
  return tokens.access_token;
}

/** JSON request to the admin API with a bearer token; returns status and parsed body. */
export async function adminCall(issuer: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(path, issuer), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) as unknown : null };
}

/** openid-client configuration for a confidential (client_secret_basic) partner client. */
export async function discoverConfidentialClient(issuer: string, clientId: string, clientSecret: string): Promise<client.Configuration> {
  return client.discovery(new URL(issuer), clientId, undefined, client.ClientSecretBasic(clientSecret), { execute: [client.allowInsecureRequests] });
}

export interface PageLog { login: number; consent: number; passwordChange: number }

/** authorizeInBrowser, counting the login and consent pages the browser was shown. */
export async function authorizeCountingPages(jar: CookieJar, start: URL, redirectUri: string, login: string, password: string, newPassword?: string): Promise<{ callback: URL; pages: PageLog }> {
  const pages: PageLog = { login: 0, consent: 0, passwordChange: 0 };
  const target = new URL(redirectUri);
  let res = await browserFetch(jar, start);
  let url = start;
  for (let step = 0; step < 20; step++) {
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location') ?? '', url);
      await res.body?.cancel();
      if (next.origin === target.origin && next.pathname === target.pathname) return { callback: next, pages };
      url = next;
      res = await browserFetch(jar, url);
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${html.slice(0, 300)}`);
    const forms = parseForms(html);
    const loginForm = forms.find((f) => f.action.endsWith('/login'));
    const confirm = forms.find((f) => f.action.endsWith('/confirm'));
    const change = forms.find((f) => f.action.endsWith('/password'));
    if (change && newPassword) {
      // First login with an initial password: change it (idp/interactions/change-password.ts).
      pages.passwordChange += 1;
      url = new URL(change.action, url);
      res = await browserFetch(jar, url, { form: { ...change.fields, password: newPassword, password2: newPassword } });
    } else if (loginForm) {
      pages.login += 1;
      url = new URL(loginForm.action, url);
      res = await browserFetch(jar, url, { form: { ...loginForm.fields, login, password } });
    } else if (confirm) {
      pages.consent += 1;
      url = new URL(confirm.action, url);
      res = await browserFetch(jar, url, { form: { ...confirm.fields, decision: 'approve' } });
    } else {
      throw new Error(`unexpected page: ${html.slice(0, 300)}`);
    }
  }
  throw new Error('too many steps');
}

export interface PartnerFlowOptions { login?: string; password?: string; scope?: string; resource?: string; extra?: Record<string, string> }

/**
 * Code flow + PKCE for a confidential partner client in the browser `jar`: the pages shown
 * (login, consent), the callback, and the tokens (undefined when the callback carries an error).
 */
export async function partnerCodeFlow(issuer: string, p: { client_id: string; client_secret: string }, redirectUri: string, jar: CookieJar, o: PartnerFlowOptions = {}) {
  const config = await discoverConfidentialClient(issuer, p.client_id, p.client_secret);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const params: Record<string, string> = {
    redirect_uri: redirectUri, scope: o.scope ?? 'openid profile', state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  };
  if (o.resource) params.resource = o.resource;
  Object.assign(params, o.extra);
  const { callback, pages } = await authorizeCountingPages(jar, client.buildAuthorizationUrl(config, params), redirectUri, o.login ?? '', o.password ?? '');
  if (callback.searchParams.get('error')) return { callback, pages, config, tokens: undefined };
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  return { callback, pages, config, tokens };
}

