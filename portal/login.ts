/**
 * Logging a person in on the guide pages, for what needs a person (the live chat, R-EV-2): the
 * pages are an OpenID Connect relying party of the IdP (openid-client; the first-party public
 * client PORTAL_CLIENT_ID, authorization code + PKCE S256, resource = the graph), run on the
 * server: the browser never holds the access token. It lives in a signed HttpOnly SameSite=Lax
 * cookie until it expires, and the portal sends it to the gateway on the person's behalf (chat.ts).
 *
 * `/login?return=<path>` starts the flow (state, nonce-free code flow with PKCE kept in a signed
 * 10-minute cookie), `/callback` redeems the code and returns to the path (only a path of this
 * site), `/logout` forgets the token.
 */
import * as client from 'openid-client';
import type { Context } from 'koa';
import type { Router } from '@koa/router';
import type { Config } from '../kernel/config.ts';
import { AppError } from '../kernel/errors.ts';
import type { Logger } from '../kernel/log.ts';

export const TOKEN_COOKIE = 'yw_portal_at';
const FLOW_COOKIE = 'yw_portal_login';

/** A path of this site only (no scheme, no `//host`), else the home page. */
export function safeReturn(v: unknown): string {
  return typeof v === 'string' && /^\/(?![/\\])[^\s]*$/.test(v) && v.length <= 500 ? v : '/';
}

/** The access token of the person logged in on this browser, if any. */
export function accessToken(ctx: Context): string | null {
  return ctx.cookies.get(TOKEN_COOKIE, { signed: true }) ?? null;
}

export function mountLogin(router: Router, o: { config: Config; log: Logger; publicUrl: string }): void {
  const issuer = o.config.IDP_ISSUER;
  const redirectUri = `${o.publicUrl}/callback`;
  const resource = o.config.GATEWAY_RESOURCE;
  let discovered: Promise<client.Configuration> | null = null;
  const oidc = () => {
    discovered ??= client.discovery(new URL(issuer), o.config.PORTAL_CLIENT_ID, undefined, client.None(),
      issuer.startsWith('http:') ? { execute: [client.allowInsecureRequests] } : undefined)
      .catch((e: unknown) => { discovered = null; throw e; });
    return discovered;
  };
  const cookie = (ctx: Context, maxAge: number) => ({ signed: true, httpOnly: true, sameSite: 'lax' as const, secure: ctx.secure, maxAge, overwrite: true, path: '/' });

  router.get('/login', async (ctx) => {
    let cfg: client.Configuration;
    try { cfg = await oidc(); } catch (e) {
      o.log.warn({ err: e }, 'portal: IdP discovery failed');
      throw new AppError('SERVICE_UNAVAILABLE', '登录服务暂时不可用 / login is unavailable');
    }
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(cfg, {
      redirect_uri: redirectUri, scope: 'openid', state, resource,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      ...(ctx.query.lang === 'en' ? { ui_locales: 'en' } : {}),
    });
    ctx.cookies.set(FLOW_COOKIE, JSON.stringify({ verifier, state, back: safeReturn(ctx.query.return) }), cookie(ctx, 600_000));
    ctx.redirect(url.href);
  });

  router.get('/callback', async (ctx) => {
    const raw = ctx.cookies.get(FLOW_COOKIE, { signed: true });
    ctx.cookies.set(FLOW_COOKIE, null, { path: '/' });
    let flow: { verifier: string; state: string; back: string };
    try { flow = JSON.parse(raw ?? '') as typeof flow; } catch {
      throw new AppError('BAD_INPUT', '登录已过期，请重新登录 / the login expired, please log in again', { state: 'no login in progress' });
    }
    let tokens: client.TokenEndpointResponse;
    try {
      tokens = await client.authorizationCodeGrant(await oidc(), new URL(`${redirectUri}?${ctx.querystring}`),
        { pkceCodeVerifier: flow.verifier, expectedState: flow.state }, { resource });
    } catch (e) {
      o.log.warn({ err: e }, 'portal: login refused');
      throw new AppError('BAD_INPUT', '登录未完成，请重新登录 / the login did not complete, please log in again', { code: 'refused' });
    }
    ctx.cookies.set(TOKEN_COOKIE, tokens.access_token, cookie(ctx, Math.max(60, Number(tokens.expires_in ?? 600)) * 1000));
    ctx.redirect(flow.back);
  });

  router.post('/logout', (ctx) => {
    ctx.cookies.set(TOKEN_COOKIE, null, { path: '/' });
    ctx.redirect(safeReturn(ctx.query.return));
  });
}
