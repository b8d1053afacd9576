/**
 * The browser's round trip to a trusted real-name platform (R-ID-3), this IdP being an OpenID
 * Connect relying party through openid-client: authorization code + PKCE (S256), `state` and
 * `nonce`, redirect URI `<IDP_ISSUER>/link/callback` for every platform.
 *
 * - start: a fresh state, nonce and PKCE verifier, kept in the cache for LINK_TTL with the
 *   platform and the intent (register | log in to an interaction | link to an account), bound to
 *   this browser: a random value in the `yw_link_bind` cookie (HttpOnly, SameSite=Lax so it comes
 *   back with the platform's redirect), stored only as its hash. Then the platform's URL.
 * - finish (the callback): the `state` must name a round trip started here, in this browser, and
 *   not used before (one DEL wins), else LINK_STATE_INVALID and nothing is asked of the
 *   platform (a replayed or forged callback). openid-client then checks the `iss` parameter
 *   (RFC 9207: a code from another platform is refused), the code exchange with the verifier,
 *   the ID token (signature, issuer, audience, expiry, nonce) and the UserInfo subject; any
 *   failure is LINK_CALLBACK_INVALID, an unreachable platform UPSTREAM_UNAVAILABLE. What the
 *   platform vouched for is read by identity.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ParameterizedContext } from 'koa';
import * as client from 'openid-client';
import type { Cache } from '../../kernel/cache.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { readIdentity, type UpstreamIdentity } from './identity.ts';
import type { Upstream, Upstreams } from './upstreams.ts';

export type Intent = { purpose: 'register' } | { purpose: 'login'; uid: string } | { purpose: 'link'; accountId: string };

interface Started { upstream: string; intent: Intent; verifier: string; nonce: string; bind: string }

export const CALLBACK_PATH = '/link/callback';
const BIND_COOKIE = 'yw_link_bind';
const LINK_TTL = 10 * 60;
const STATE = /^[A-Za-z0-9_-]{20,100}$/;

export interface LinkFlows {
  /** The platform's authorization URL for this browser and intent (UPSTREAM_UNKNOWN / UPSTREAM_UNAVAILABLE). */
  start(ctx: ParameterizedContext, upstreamId: string, intent: Intent): Promise<string>;
  /** The callback: the intent it was started with and the identity the platform vouched for. */
  finish(ctx: ParameterizedContext): Promise<{ intent: Intent; upstream: Upstream; identity: UpstreamIdentity }>;
}

const hash = (v: string) => createHash('sha256').update(`yiwang.idp.link-bind:${v}`).digest('base64url');
/** Where a round trip waits in the cache (exported for tests that tamper with it). */
export const stateKey = (state: string): string => `link:state:${hash(state)}`;

export function createLinkFlows(d: { upstreams: Upstreams; cache: Cache; clock: Clock; issuer: string }): LinkFlows {
  const redirectUri = new URL(CALLBACK_PATH, d.issuer).href;
  const invalidState = () => new AppError('LINK_STATE_INVALID', '关联请求已失效、已使用或不是从本浏览器发起，请重新开始 / this platform answer belongs to no request in progress in this browser (expired, used or forged); start again');

  function bindOf(ctx: ParameterizedContext): string {
    const existing = ctx.cookies.get(BIND_COOKIE, { signed: false });
    if (existing && /^[A-Za-z0-9_-]{32}$/.test(existing)) return existing;
    const fresh = randomBytes(24).toString('base64url');
    ctx.cookies.set(BIND_COOKIE, fresh, { httpOnly: true, sameSite: 'lax', path: '/link', secure: ctx.secure, signed: false, overwrite: true });
    return fresh;
  }

  return {
    async start(ctx, upstreamId, intent) {
      const u = d.upstreams.get(upstreamId);
      const config = await d.upstreams.client(u);
      const state = client.randomState();
      const nonce = client.randomNonce();
      const verifier = client.randomPKCECodeVerifier();
      const started: Started = { upstream: u.id, intent, verifier, nonce, bind: hash(bindOf(ctx)) };
      await d.cache.set(stateKey(state), JSON.stringify(started), { ttlSeconds: LINK_TTL });
      return client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri, scope: u.scope, state, nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      }).href;
    },

    async finish(ctx) {
      const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
      if (!STATE.test(state)) throw invalidState();
      const raw = await d.cache.get(stateKey(state));
      const bind = ctx.cookies.get(BIND_COOKIE, { signed: false });
      const started = raw ? JSON.parse(raw) as Started : undefined;
      // Another browser's state is not consumed: its owner may still come back with it.
      if (!started || !bind || hash(bind) !== started.bind) throw invalidState();
      if (await d.cache.del(stateKey(state)) !== 1) throw invalidState();
      const u = d.upstreams.get(started.upstream);
      const config = await d.upstreams.client(u);
      const current = new URL(`${CALLBACK_PATH}${ctx.querystring ? `?${ctx.querystring}` : ''}`, d.issuer);
      try {
        const tokens = await client.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: started.verifier, expectedState: state, expectedNonce: started.nonce, idTokenExpected: true,
        });
        const claims = tokens.claims();
        if (!claims) throw new Error('no ID token');
        const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
        const identity = readIdentity(u, {
          issuer: config.serverMetadata().issuer, subject: claims.sub, acr: claims.acr, userinfo: userinfo as Record<string, unknown>, now: d.clock.now(),
        });
        return { intent: started.intent, upstream: u, identity };
      } catch (e) {
        if (e instanceof AppError) throw e;
        const err = e as { name?: string; code?: string; error?: string; message?: string; cause?: unknown };
        if (e instanceof TypeError && /fetch failed/i.test(err.message ?? '') || err.name === 'TimeoutError' || err.name === 'AbortError') {
          throw new AppError('UPSTREAM_UNAVAILABLE', '暂时无法连接该实名认证平台，请稍后再试 / the real-name platform cannot be reached right now; try again later', { upstream: u.id });
        }
        throw new AppError('LINK_CALLBACK_INVALID', '实名认证平台的应答未通过校验，请重新开始 / the platform\'s answer failed verification; start again', {
          upstream: u.id, error: err.error ?? err.code ?? 'invalid', reason: (err.message ?? '').slice(0, 200),
        });
      }
    },
  };
}
