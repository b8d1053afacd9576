/**
 * The cross-tier journey (R-ID-12, R-LI-3) against a running `npm run tiers`:
 * `npm run journey -- --tiers <tiers.json>` (./main.ts), and test/tiers.test.ts in `npm test`.
 *
 * 1. A citizen registers in the separate-mode city (Hangzhou, zj-hz) and logs in there.
 * 2. The same person logs in at the hybrid-mode city (Nanjing, js-nj) without registering: its
 *    login is its province's (js), which recognises the person at the home platform found from
 *    the ID number's region; the assurance level stays exactly the one proven at home.
 * 3. The person uses a service of the hybrid city through its gateway: a case its own staff
 *    handle, ending in a licence sealed by the Nanjing agency.
 * 4. That licence verifies at the home city's licence service (JSON and page), and with the
 *    command line, with only the national seal root; revoked in Nanjing, it shows revoked in
 *    Hangzhou.
 * 5. Logging out at the visiting city ends the session at the province and at home too.
 * 6. The home platform's administrator disables the account: the visiting platform's refresh
 *    token stops working and a new cross-tier login is refused.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as client from 'openid-client';
import { DEMO_ADMINS, DEMO_ADMIN_PASSWORD } from '../../idp/admin/seed.ts';
import type { TiersJson, TiersJsonPlatform } from '../tiers/plan.ts';
import { CookieJar, LoginPageError, browserFetch, loginWithPkce, parseForms } from './browser.ts';
import { crossTierLogin } from './cross-tier.ts';
import { revokeLicenceAt, verifyLicenceAt, verifyPageAt, verifyWithCli, myLicenceId } from './licence-across.ts';
import { devSinkCodes, registerCitizen } from './register.ts';
import { caseToLicence, eventually, gqlOk, newCitizen, type Endpoints } from './steps.ts';

/** The portal client's redirect URI on every platform of `npm run tiers` (IDP_PORTAL_REDIRECT_URIS default). */
export const PORTAL_REDIRECT = 'http://127.0.0.1:3000/callback';
const POST_LOGOUT = 'http://127.0.0.1:3000/';

export interface TiersRun {
  tiers: TiersJson;
  /** The directory tiers.json is in: each platform's data directory is `<dir>/<id>`. */
  dir: string;
}

export function readTiers(path: string): TiersRun {
  const tiers = JSON.parse(readFileSync(path, 'utf8')) as TiersJson;
  if (!Array.isArray(tiers?.platforms) || typeof tiers.trustAnchor !== 'string') throw new Error(`${path} is not a tiers.json written by npm run tiers`);
  return { tiers, dir: dirname(path) };
}

export function platformOf(run: TiersRun, id: string): TiersJsonPlatform {
  const p = run.tiers.platforms.find((x) => x.id === id);
  if (!p) throw new Error(`tiers.json lists no platform "${id}"`);
  return p;
}

/** A platform of the run as the single-platform journey's steps see it. */
export function endpointsOf(p: TiersJsonPlatform): Endpoints {
  return { gateway: p.gateway, issuer: p.issuer, licence: p.licence, resource: `${p.gateway}/graphql`, redirectUri: PORTAL_REDIRECT };
}

/** An administrator's access token for a platform's admin API (the demo administrator). */
export async function adminToken(p: TiersJsonPlatform): Promise<string> {
  const r = await loginWithPkce({ issuer: p.issuer, redirectUri: PORTAL_REDIRECT, resource: `${p.issuer}/admin`, login: DEMO_ADMINS[0].username, password: DEMO_ADMIN_PASSWORD, scope: 'openid admin' });
  return r.access_token;
}

/**
 * RP-initiated logout at `issuer` in this browser, following the chain of end-session pages
 * (each platform's confirmation form, "log out") until the application's post-logout URI.
 * Returns the end-session endpoints passed through, in order.
 */
export async function logoutEverywhere(jar: CookieJar, config: client.Configuration, idToken: string): Promise<string[]> {
  let url = client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT });
  let res = await browserFetch(jar, url);
  const seen: string[] = [url.origin + url.pathname];
  for (let i = 0; i < 20; i++) {
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url);
      await res.body?.cancel();
      if (url.href.startsWith(POST_LOGOUT)) return seen;
      seen.push(url.origin + url.pathname);
      res = await browserFetch(jar, url);
      continue;
    }
    const html = await res.text();
    const form = parseForms(html).find((x) => x.action.includes('/session/end/confirm'));
    if (!form) throw new LoginPageError(res.status, html);
    url = new URL(form.action, url);
    res = await browserFetch(jar, url, { form: { ...form.fields, logout: 'yes' } });
  }
  throw new Error('too many steps before the application\'s post-logout page');
}

/** Whether the browser still has a login session at `issuer` (a silent authorization request). */
export async function hasSession(jar: CookieJar, issuer: string): Promise<boolean> {
  const config = await client.discovery(new URL(issuer), 'yiwang-portal', undefined, client.None(), { execute: [client.allowInsecureRequests] });
  const start = client.buildAuthorizationUrl(config, {
    redirect_uri: PORTAL_REDIRECT, scope: 'openid', prompt: 'none', state: client.randomState(),
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  });
  let url = start;
  for (let i = 0; i < 10; i++) {
    const res = await browserFetch(jar, url);
    await res.body?.cancel();
    const loc = res.headers.get('location');
    if (!loc) throw new Error(`silent authorization at ${issuer} answered ${res.status}`);
    url = new URL(loc, url);
    if (url.href.startsWith(PORTAL_REDIRECT)) {
      if (url.searchParams.get('code')) return true;
      // Logged in, but this application would have to ask something first (its consent): still a session.
      const error = url.searchParams.get('error');
      if (error === 'login_required') return false;
      if (error === 'consent_required' || error === 'interaction_required') return true;
      throw new Error(`silent authorization at ${issuer} answered error=${error}`);
    }
  }
  throw new Error(`silent authorization at ${issuer} did not come back`);
}

const mask = (id: string) => `${id.slice(0, 6)}********${id.slice(14)}`;

export interface TiersJourneyResult {
  homeAcr: string;
  visitingAcr: string;
  licenceIdentifier: string;
  logoutPath: string[];
}

/** Run the cross-tier journey; throws (with what failed) on the first step that does not hold. */
export async function runTiersJourney(run: TiersRun, say: (line: string) => void = () => undefined): Promise<TiersJourneyResult> {
  const home = platformOf(run, 'zj-hz');
  const province = platformOf(run, 'js');
  const visiting = platformOf(run, 'js-nj');
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(what);
  };

  // 1. Registered once, at home.
  const c = newCitizen();
  await registerCitizen(home.issuer, c, devSinkCodes({ NODE_ENV: 'development', NOTIFY_SINK: 'dev', DATA_DIR: join(run.dir, home.id) }));
  say(`1. ${c.name} (ID ${mask(c.idNumber)}) registered at ${home.name} (${home.mode} mode)`);
  const atHome = await loginWithPkce({ issuer: home.issuer, redirectUri: PORTAL_REDIRECT, resource: `${home.gateway}/graphql`, login: c.idNumber, password: c.password });
  const homeAcr = String(atHome.claims()?.acr);
  say(`   logged in at home: acr ${homeAcr}`);

  // 2. Recognised at the hybrid city without registering there.
  const jar = new CookieJar();
  const crossed = await crossTierLogin({
    visiting: visiting.issuer, redirectUri: PORTAL_REDIRECT, hint: c.idNumber, login: c.idNumber, password: c.password, jar,
    scope: 'openid profile phone', resource: `${visiting.gateway}/graphql`,
  });
  const claims = crossed.claims()!;
  const visitingAcr = String(claims.acr);
  check(visitingAcr === homeAcr, `the level changed on the way: ${homeAcr} at home, ${visitingAcr} at ${visiting.id}`);
  check(JSON.stringify(claims.amr) === JSON.stringify(['fed']), `the visiting login is not a federated one (amr ${JSON.stringify(claims.amr)})`);
  say(`2. logged in at ${visiting.name} through ${province.name} and the home platform: no registration, no second password; acr ${visitingAcr} as at home (${crossed.pages.requests} HTTP requests)`);
  const me = await gqlOk(visiting.gateway, crossed.access_token, '{ me { displayName kind assuranceLevel } }');
  check(me.me?.displayName === c.name, `${visiting.id} does not know the person as ${c.name}: ${JSON.stringify(me.me)}`);
  say(`   ${visiting.id}'s graph knows the person as ${me.me.displayName} (${me.me.kind}, level ${me.me.assuranceLevel})`);

  // 3. A service of the hybrid city, handled by its own staff.
  const e = endpointsOf(visiting);
  const handled = await caseToLicence(e, crossed.access_token, `tiers-${c.idNumber}`, (l) => say(`   ${l}`), 1);
  say(`3. case ${handled.caseNumber} at ${visiting.id} ended with licence ${handled.licenceIdentifier}`);

  // 4. The licence verifies at the home city with only the national root.
  const verdict = await verifyLicenceAt(home.licence, handled.credential);
  check(verdict.valid, `${home.id} does not accept ${visiting.id}'s licence: ${verdict.reason} ${verdict.message}`);
  const onPage = await verifyPageAt(home.licence, handled.credential);
  check(onPage.valid, `${home.id}'s verify page refuses ${visiting.id}'s licence (${onPage.code})`);
  const cli = await verifyWithCli(handled.credential, run.tiers.sealTrustAnchors);
  check(cli.code === 0, `yiwang verify with only the national root refuses the licence: ${cli.err || cli.out}`);
  say(`4. licence of ${verdict.licence?.issuerName} verifies at ${home.id} (JSON, page) and with \`yiwang verify\` trusting only the national root`);
  const licenceId = await myLicenceId(visiting.gateway, crossed.access_token, handled.licenceIdentifier);
  await revokeLicenceAt(visiting.gateway, handled.deciderToken, licenceId, '跨层级旅程：撤销检验 / cross-tier journey: revocation check');
  const revoked = await eventually('the revocation to be seen at home', async () => {
    const v = await verifyLicenceAt(home.licence, handled.credential);
    return v.valid ? null : v;
  });
  say(`   revoked at ${visiting.id}: ${home.id} now answers ${revoked.reason}`);

  // 5. Logging out at the visiting city ends the chain of sessions.
  check(await hasSession(jar, home.issuer), 'no session at home after the cross-tier login');
  const logoutPath = await logoutEverywhere(jar, crossed.config, crossed.id_token!);
  for (const p of [visiting, province, home]) check(!(await hasSession(jar, p.issuer)), `still logged in at ${p.id} after logging out at ${visiting.id}`);
  say(`5. logged out at ${visiting.id}: sessions ended at ${[visiting.id, province.id, home.id].join(', ')} (${logoutPath.length} end-session steps)`);

  // 6. Disabled at home: recognition ends everywhere.
  const again = await crossTierLogin({
    visiting: visiting.issuer, redirectUri: PORTAL_REDIRECT, hint: c.idNumber, login: c.idNumber, password: c.password,
    scope: 'openid profile phone', resource: `${visiting.gateway}/graphql`,
  });
  check(Boolean(again.refresh_token), `${visiting.id} issued no refresh token`);
  const admin = await adminToken(home);
  const account = await gqlOk(home.gateway, atHome.access_token, '{ me { id } }');
  const disabled = await fetch(new URL(`/admin/accounts/${account.me.id}/disable`, home.issuer), {
    method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ reason: '跨层级旅程：停用检验 / cross-tier journey: disabling check' }),
  });
  check(disabled.status === 200, `${home.id}'s administrator could not disable the account: ${disabled.status} ${(await disabled.text()).slice(0, 200)}`);
  const refused = await client.refreshTokenGrant(again.config, again.refresh_token!).then(() => null, (err: { error?: string }) => err.error ?? 'failed');
  check(refused === 'invalid_grant', `${visiting.id} still refreshed the token of an account disabled at home (${refused ?? 'accepted'})`);
  const relogin = await crossTierLogin({ visiting: visiting.issuer, redirectUri: PORTAL_REDIRECT, hint: c.idNumber, login: c.idNumber, password: c.password })
    .then(() => 'accepted', (err: unknown) => (err instanceof LoginPageError ? err.code ?? `HTTP ${err.status}` : String(err)));
  check(relogin === 'ACCOUNT_DISABLED', `a new cross-tier login of a disabled account was not refused with ACCOUNT_DISABLED (${relogin})`);
  say(`6. disabled at ${home.id}: ${visiting.id} refuses the refresh (invalid_grant) and the next login (${relogin})`);

  return { homeAcr, visitingAcr, licenceIdentifier: handled.licenceIdentifier, logoutPath };
}
