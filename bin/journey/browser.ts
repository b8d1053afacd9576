/**
 * A front end and its browser, for the journey (`npm run journey`), the benchmarks and the tests:
 * a cookie jar, manual redirects and form submission through the IdP's own pages, and
 * openid-client as the relying party (authorization code + PKCE).
 */
import * as client from 'openid-client';

// ---------------------------------------------------------------------------------------------
// A browser: cookie jar + manual redirects + form submission

interface StoredCookie { name: string; value: string; path: string; host: string; expires: number | null }

/** Enough of RFC 6265 for one host: path matching, Max-Age / Expires, deletion. */
export class CookieJar {
  #cookies = new Map<string, StoredCookie>();

  store(url: URL, res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const c: StoredCookie = { name: pair.slice(0, eq), value: pair.slice(eq + 1), path: defaultPath(url), host: url.host, expires: null };
      for (const a of attrs) {
        const [k = '', v = ''] = a.split('=');
        const key = k.toLowerCase();
        if (key === 'path' && v.startsWith('/')) c.path = v;
        else if (key === 'max-age') c.expires = Date.now() + Number(v) * 1000;
        else if (key === 'expires' && c.expires === null) c.expires = Date.parse(v);
      }
      const id = `${c.host};${c.path};${c.name}`;
      if (c.expires !== null && c.expires <= Date.now()) this.#cookies.delete(id);
      else this.#cookies.set(id, c);
    }
  }

  header(url: URL): string {
    const now = Date.now();
    return [...this.#cookies.values()]
      .filter((c) => c.host === url.host && (c.expires === null || c.expires > now) && pathMatches(url.pathname, c.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

function defaultPath(url: URL): string {
  const p = url.pathname;
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function pathMatches(reqPath: string, cookiePath: string): boolean {
  return reqPath === cookiePath || (reqPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || reqPath[cookiePath.length] === '/'));
}

/** A fetch that keeps cookies and never follows redirects by itself. */
export async function browserFetch(jar: CookieJar, url: URL, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'text/html' };
  const cookie = jar.header(url);
  if (cookie) headers.cookie = cookie;
  let body: string | undefined;
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  const res = await fetch(url, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
  jar.store(url, res);
  return res;
}

function decodeEntities(s: string): string {
  return s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export interface PageForm { action: string; fields: Record<string, string> }

/** The forms of a page: action and hidden inputs (enough for the IdP's own pages). */
export function parseForms(html: string): PageForm[] {
  const forms: PageForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const action = /action="([^"]*)"/.exec(m[1] ?? '')?.[1];
    if (!action) continue;
    const fields: Record<string, string> = {};
    for (const i of (m[2] ?? '').matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
      const name = /name="([^"]*)"/.exec(i[0])?.[1];
      const value = /value="([^"]*)"/.exec(i[0])?.[1];
      if (name) fields[decodeEntities(name)] = decodeEntities(value ?? '');
    }
    forms.push({ action: decodeEntities(action), fields });
  }
  return forms;
}

/** The error code a page shows (`data-code` on its error box), if any. */
export function pageErrorCode(html: string): string | undefined {
  return /data-code="([A-Z_]+)"/.exec(html)?.[1];
}

export class LoginPageError extends Error {
  readonly code: string | undefined;
  readonly status: number;
  readonly html: string;
  constructor(status: number, html: string) {
    const code = pageErrorCode(html);
    super(`login stopped with HTTP ${status}${code ? ` ${code}` : ''}`);
    this.code = code;
    this.status = status;
    this.html = html;
  }
}

// ---------------------------------------------------------------------------------------------
// The relying party

export interface LoginOptions {
  issuer: string;
  clientId?: string;
  redirectUri: string;
  /** RFC 8707 resource (the gateway); omitted = the IdP's default resource. */
  resource?: string;
  /** ID number, mobile number or staff username. */
  login: string;
  password: string;
  scope?: string;
  /** Approve (default) or deny the consent page. */
  consent?: 'approve' | 'deny';
}

export type TokenResponse = Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
export type LoginResult = TokenResponse & { tokens: TokenResponse; config: client.Configuration };

export async function discoverClient(issuer: string, clientId = 'yiwang-portal'): Promise<client.Configuration> {
  return client.discovery(new URL(issuer), clientId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
}

/**
 * Walk the browser from the authorization URL to the redirect back to `redirectUri`; returns
 * that callback URL. Throws LoginPageError when a page answers with an error status.
 */
export async function authorizeInBrowser(jar: CookieJar, start: URL, o: Pick<LoginOptions, 'redirectUri' | 'login' | 'password' | 'consent'>): Promise<URL> {
  const target = new URL(o.redirectUri);
  let res = await browserFetch(jar, start);
  let url = start;
  for (let step = 0; step < 20; step++) {
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location') ?? '', url);
      await res.body?.cancel();
      if (next.origin === target.origin && next.pathname === target.pathname) return next;
      url = next;
      res = await browserFetch(jar, url);
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new LoginPageError(res.status, html);
    const forms = parseForms(html);
    const login = forms.find((f) => f.action.endsWith('/login'));
    const confirm = forms.find((f) => f.action.endsWith('/confirm'));
    if (login) {
      url = new URL(login.action, url);
      res = await browserFetch(jar, url, { form: { ...login.fields, login: o.login, password: o.password } });
    } else if (confirm) {
      url = new URL(confirm.action, url);
      res = await browserFetch(jar, url, { form: { ...confirm.fields, decision: o.consent ?? 'approve' } });
    } else {
      throw new LoginPageError(res.status, html);
    }
  }
  throw new Error('too many steps before reaching the redirect URI');
}

export async function loginWithPkce(o: LoginOptions): Promise<LoginResult> {
  const config = await discoverClient(o.issuer, o.clientId);
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const params: Record<string, string> = {
    redirect_uri: o.redirectUri,
    scope: o.scope ?? 'openid profile phone',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
  };
  if (o.resource) params.resource = o.resource;
  const callback = await authorizeInBrowser(new CookieJar(), client.buildAuthorizationUrl(config, params), o);
  const tokens = await client.authorizationCodeGrant(
    config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state }, o.resource ? { resource: o.resource } : undefined,
  );
  return Object.assign(tokens, { tokens, config });
}
