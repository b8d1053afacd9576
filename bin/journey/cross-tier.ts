/**
 * A cross-tier login as a browser does it (R-ID-12), for the journey, tests and benchmarks: an
 * application of the VISITING platform (openid-client, code + PKCE) sends the browser to the
 * visiting IdP; on its login page the person uses “用其他地区平台账号登录 / Log in with your home
 * platform”, i.e. the form POST `<visiting>/interaction/<uid>/home` with either
 * `platform=<home Entity Identifier>` (the select, filled from the federation's directory) or
 * `hint=<resident ID number>` (its first six digits find the home); the visiting IdP sends the
 * browser to the home IdP, where the person logs in (skipped when already logged in there) and
 * approves the release of the verified identity once (skipped afterwards); the home sends it back
 * to `<visiting>/link/callback`, and the visiting IdP finishes its own login with a recognised
 * local identity. A hybrid city's login page sends people to its province first
 * (`<city>/interaction/<uid>/superior`), whose login page has the home form.
 */
import * as client from 'openid-client';
import { CookieJar, LoginPageError, browserFetch, discoverClient, parseForms, type LoginResult } from './browser.ts';

export interface CrossTierOptions {
  /** The visiting platform's IdP issuer. */
  visiting: string;
  /** The application's redirect URI at the visiting IdP (the portal client's by default). */
  redirectUri: string;
  clientId?: string;
  /** The application's openid-client configuration at the visiting IdP (discovered when absent). */
  config?: client.Configuration;
  /** The home platform: its Entity Identifier (the select's value) … */
  home?: string;
  /** … or the person's ID number as the hint. */
  hint?: string;
  /** Credentials at the home platform (not needed when the jar is logged in there already). */
  login?: string;
  password?: string;
  jar?: CookieJar;
  scope?: string;
  /** RFC 8707 resource (a platform's gateway) the access token is for; omitted = the IdP's default. */
  resource?: string;
  /** Extra authorization parameters for the visiting IdP (acr_values, claims …). */
  params?: Record<string, string>;
  /** A step-up at home: the SMS code sent to the person's mobile (asked for once the code was sent). */
  stepUpCode?: () => Promise<string>;
  /** Every URL the browser is about to request (tests rewrite or record the callback). */
  intercept?: (url: URL) => URL;
}

/** What the browser went through: pages shown by each side and HTTP requests made. */
export interface CrossTierPages { visitingLogin: number; homeLogin: number; consent: number; requests: number }

/** The visiting login page's home-platform form (`…/interaction/<uid>/home`), if it has one. */
export const homeForm = (html: string) => parseForms(html).find((f) => /\/interaction\/[^/]+\/home$/.test(f.action));

/**
 * Walk a cross-tier login from the application's authorization request to its callback and
 * redeem the code. Throws LoginPageError (with the page's error code) when a page refuses.
 */
export async function crossTierLogin(o: CrossTierOptions): Promise<LoginResult & { pages: CrossTierPages; callback: URL }> {
  const jar = o.jar ?? new CookieJar();
  const config = o.config ?? await discoverClient(o.visiting, o.clientId);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const start = client.buildAuthorizationUrl(config, {
    redirect_uri: o.redirectUri, scope: o.scope ?? 'openid profile phone', state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...(o.resource ? { resource: o.resource } : {}), ...o.params,
  });
  const pages: CrossTierPages = { visitingLogin: 0, homeLogin: 0, consent: 0, requests: 0 };
  const target = new URL(o.redirectUri);
  const get = (at: URL, init?: { form: Record<string, string> }) => {
    pages.requests++;
    url = o.intercept ? o.intercept(at) : at;
    return browserFetch(jar, url, init);
  };
  let url = start;
  let homeChosen = false;
  let res = await get(start);
  for (let step = 0; step < 40; step++) {
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location') ?? '', url);
      await res.body?.cancel();
      if (next.origin === target.origin && next.pathname === target.pathname) {
        if (next.searchParams.get('error')) throw Object.assign(new Error(`the application got error=${next.searchParams.get('error')}`), { callback: next });
        const tokens = await client.authorizationCodeGrant(config, next, { pkceCodeVerifier: verifier, expectedState: state }, o.resource ? { resource: o.resource } : undefined);
        return Object.assign(tokens, { tokens, config, pages, callback: next });
      }
      res = await get(next);
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new LoginPageError(res.status, html);
    const forms = parseForms(html);
    // The first login page with the home-platform form is the visiting side's (a hybrid city's is
    // its province's); every login form after it is the home platform's.
    // Without a home or hint (not even empty ones), the person's home is the platform whose login
    // page comes first (a hybrid city's province).
    const pickHome = !homeChosen && (o.home !== undefined || o.hint !== undefined);
    const home = pickHome ? homeForm(html) : undefined;
    const login = pickHome ? undefined : forms.find((f) => f.action.endsWith('/login'));
    const confirm = forms.find((f) => f.action.endsWith('/confirm'));
    const stepUp = forms.find((f) => f.action.endsWith('/stepup'));
    const sendCode = forms.find((f) => f.action.endsWith('/stepup/send'));
    // A hybrid city's login page: people log in at its province (whose page has the home form).
    const superior = homeChosen ? undefined : forms.find((f) => /\/interaction\/[^/]+\/superior$/.test(f.action));
    if (superior) {
      pages.visitingLogin++;
      res = await get(new URL(superior.action, url), { form: superior.fields });
    } else if (home) {
      homeChosen = true;
      pages.visitingLogin++;
      res = await get(new URL(home.action, url), { form: { ...home.fields, platform: o.home ?? '', hint: o.hint ?? '' } });
    } else if (login && o.login) {
      pages.homeLogin++;
      res = await get(new URL(login.action, url), { form: { ...login.fields, login: o.login, password: o.password ?? '' } });
    } else if (confirm) {
      pages.consent++;
      res = await get(new URL(confirm.action, url), { form: { ...confirm.fields, decision: 'approve' } });
    } else if (o.stepUpCode && stepUp && (html.includes('role="status"') || !sendCode)) {
      res = await get(new URL(stepUp.action, url), { form: { ...stepUp.fields, code: await o.stepUpCode() } });
    } else if (o.stepUpCode && sendCode) {
      res = await get(new URL(sendCode.action, url), { form: sendCode.fields });
    } else {
      throw new LoginPageError(res.status, html);
    }
  }
  throw new Error('too many steps before reaching the redirect URI');
}
