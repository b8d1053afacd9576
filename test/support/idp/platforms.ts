/**
 * Test fixture for linked registration (R-ID-3): two real IdPs of this platform. `national`
 * plays the trusted real-name platform of another tier (the national government service
 * platform); `city` is the platform people register on. At `national` an administrator
 * registers `city` as a trusted real-name platform client (scope yw_realname) and as a plain
 * partner (masked ID only); `city` is started with both configured in IDP_UPSTREAMS, plus one
 * whose issuer does not answer.
 *
 * `throughPlatform` is a browser (cookie jar, manual redirects) going from a `city` URL through
 * the national login and consent pages and back, stopping at the first page `city` shows (or at
 * the callback, or at a redirect off both platforms).
 */
import { freePort } from '../infra.ts';
import { adminCall, adminToken, browserFetch, parseForms, startTestIdp, type CookieJar, type TestIdp } from '../oidc.ts';
import { DEMO_ADMIN_PASSWORD } from '../../../idp/admin/seed.ts';

export const NATIONAL = { id: 'gjzwfw', name: { zh: '国家政务服务平台', en: 'National government service platform' }, tier: 'national', region: '100000' } as const;

export interface Platforms {
  national: TestIdp;
  city: TestIdp;
  /** city's redirect URI at national. */
  callback: string;
  realnameClient: { client_id: string; client_secret: string };
  plainClient: { client_id: string; client_secret: string };
  close(): Promise<void>;
}

export async function startPlatforms(env: Record<string, string> = {}): Promise<Platforms> {
  // Another host name than city's: a browser keeps cookies per host, not per port (two IdPs on 127.0.0.1 would share them).
  const national = await startTestIdp({ seed: true, host: 'localhost', env: { IDP_PLATFORM_ID: 'gjzwfw', IDP_PLATFORM_TIER: 'national', IDP_OTP_RESEND_SECONDS: '0' } });
  const port = await freePort();
  const callback = `http://127.0.0.1:${port}/link/callback`;
  const admin = await adminToken(national.issuer, 'yw-admin', DEMO_ADMIN_PASSWORD);
  const register = async (body: Record<string, unknown>) => {
    const r = await adminCall(national.issuer, admin, 'POST', '/admin/clients', { redirect_uris: [callback], ...body });
    if (r.status !== 201) throw new Error(`client registration refused: ${JSON.stringify(r.body)}`);
    return r.body as { client_id: string; client_secret: string };
  };
  const realnameClient = await register({ client_name: '杭州市政务服务网 / Hangzhou portal', scope: 'openid yw_realname', realname_platform: true });
  const plainClient = await register({ client_name: '杭州市合作网站 / Hangzhou partner', scope: 'openid profile yw_identity' });
  const closed = await freePort();
  const upstreams = [
    { ...NATIONAL, issuer: national.issuer, clientId: realnameClient.client_id, clientSecret: realnameClient.client_secret, level: 4, attributes: ['name', 'idNumber', 'mobile'] },
    { id: 'plain', name: { zh: '某合作平台', en: 'A partner platform' }, issuer: national.issuer, clientId: plainClient.client_id, clientSecret: plainClient.client_secret,
      scope: 'openid profile yw_identity', level: 3, attributes: ['name', 'idNumber'], tier: 'provincial', region: '330000' },
    { id: 'offline', name: { zh: '离线平台', en: 'Offline platform' }, issuer: `http://127.0.0.1:${closed}`, clientId: 'x', clientSecret: 'offline-secret-0123456789',
      level: 3, attributes: ['name', 'idNumber'], tier: 'provincial', region: '320000' },
  ];
  const city = await startTestIdp({
    port, seed: true,
    env: { IDP_PLATFORM_ID: 'hangzhou', IDP_PLATFORM_TIER: 'municipal', IDP_UPSTREAMS: JSON.stringify(upstreams), IDP_OTP_RESEND_SECONDS: '0', ...env },
  });
  return {
    national, city, callback, realnameClient, plainClient,
    async close() { await city.close(); await national.close(); },
  };
}

export interface Stop { url: URL; status: number; html: string }

/**
 * Follow redirects from `start`; on national's pages log in as `who` and approve consent (or
 * deny it); return at the first page city shows, at a redirect leaving both platforms, or (with
 * `stopAtCallback`) at the redirect to city's callback, unfollowed.
 */
export async function throughPlatform(p: Platforms, jar: CookieJar, start: URL, o: { login?: string; password?: string; consent?: 'approve' | 'deny'; stopAtCallback?: boolean; method?: string; form?: Record<string, string> } = {}): Promise<Stop> {
  const national = new URL(p.national.issuer).origin;
  const city = new URL(p.city.issuer).origin;
  let url = start;
  let res = await browserFetch(jar, url, { ...(o.method ? { method: o.method } : {}), ...(o.form ? { form: o.form } : {}) });
  for (let i = 0; i < 30; i++) {
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location') ?? '', url);
      await res.body?.cancel();
      if ((next.origin !== national && next.origin !== city) || (o.stopAtCallback && next.href.startsWith(p.callback))) return { url: next, status: res.status, html: '' };
      url = next;
      res = await browserFetch(jar, url);
      continue;
    }
    const html = await res.text();
    if (url.origin !== national) return { url, status: res.status, html };
    const forms = parseForms(html);
    const login = forms.find((f) => f.action.endsWith('/login'));
    const confirm = forms.find((f) => f.action.endsWith('/confirm'));
    if (login && o.login) {
      url = new URL(login.action, url);
      res = await browserFetch(jar, url, { form: { ...login.fields, login: o.login, password: o.password ?? '' } });
    } else if (confirm) {
      url = new URL(confirm.action, url);
      res = await browserFetch(jar, url, { form: { ...confirm.fields, decision: o.consent ?? 'approve' } });
    } else {
      return { url, status: res.status, html };
    }
  }
  throw new Error('too many steps');
}
