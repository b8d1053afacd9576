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
 * - startHome / finish for a home platform of the federation (R-ID-12, homes.ts): the same round
 *   trip, the platform resolved through its trust chain at the start AND again at the callback
 *   (a chain that ended meanwhile is refused), `private_key_jwt` with our RP key. A level the
 *   service asks for goes to the home as `acr_values` (and an essential one as an essential
 *   `acr` claim), so the person steps up AT HOME; the ID token's `acr` must be on our scale and
 *   within what the home may vouch for (RECOGNITION_LEVEL_INVALID), and is kept as it is. The
 *   home's tokens (refresh token, ID token, session id) come back for recognition (routes.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ParameterizedContext } from 'koa';
import * as client from 'openid-client';
import type { Cache } from '../../kernel/cache.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { acrOf, levelOf, type Level } from '../accounts/assurance.ts';
import { readIdentity, type UpstreamIdentity } from './identity.ts';
import { homeError, type Homes } from './homes.ts';
import type { ConfiguredUpstream, Upstream, Upstreams } from './upstreams.ts';

export type Intent = { purpose: 'register' } | { purpose: 'login'; uid: string } | { purpose: 'link'; accountId: string };

interface Started { upstream: string; intent: Intent; verifier: string; nonce: string; bind: string; home?: string }

/** What the home platform gave back besides the identity (kept for refresh checks and logout, homes.ts). */
export interface HomeTokens { entityId: string; idToken: string; refreshToken?: string; sid?: string }

/** The level a service asks of the login, passed on to the home (idp/accounts/assurance.ts AcrDemand). */
export interface HomeAcr { voluntary?: Level; essential?: Level }

export const CALLBACK_PATH = '/link/callback';
const BIND_COOKIE = 'yw_link_bind';
const LINK_TTL = 10 * 60;
const STATE = /^[A-Za-z0-9_-]{20,100}$/;

export interface LinkFlows {
  /** The platform's authorization URL for this browser and intent (UPSTREAM_UNKNOWN / UPSTREAM_UNAVAILABLE). */
  start(ctx: ParameterizedContext, upstreamId: string, intent: Intent): Promise<string>;
  /** The callback: the intent it was started with and the identity the platform vouched for. */
  finish(ctx: ParameterizedContext): Promise<{ intent: Intent; upstream: Upstream; identity: UpstreamIdentity; home?: HomeTokens }>;
  /** The home platform's authorization URL (RECOGNITION_HOME_UNKNOWN / _UNTRUSTED / _UNAVAILABLE). */
  startHome(ctx: ParameterizedContext, entityId: string, intent: Intent, acr?: HomeAcr): Promise<string>;
}

const hash = (v: string) => createHash('sha256').update(`yiwang.idp.link-bind:${v}`).digest('base64url');
/** Where a round trip waits in the cache (exported for tests that tamper with it). */
export const stateKey = (state: string): string => `link:state:${hash(state)}`;

export function createLinkFlows(d: { upstreams: Upstreams; cache: Cache; clock: Clock; issuer: string; homes?: Homes | undefined }): LinkFlows {
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

    async startHome(ctx, entityId, intent, acr = {}) {
      if (!d.homes) throw new AppError('RECOGNITION_HOME_UNKNOWN', '本平台未加入联邦 / this platform is not part of a federation', { platform: entityId.slice(0, 200) });
      const home = await d.homes.connect(entityId);
      await d.homes.probe(home);
      const state = client.randomState();
      const nonce = client.randomNonce();
      const verifier = client.randomPKCECodeVerifier();
      const started: Started = { upstream: home.upstream.id, intent, verifier, nonce, bind: hash(bindOf(ctx)), home: home.entry.entityId };
      await d.cache.set(stateKey(state), JSON.stringify(started), { ttlSeconds: LINK_TTL });
      const wanted = Math.max(acr.voluntary ?? 0, acr.essential ?? 0);
      return client.buildAuthorizationUrl(home.config, {
        redirect_uri: redirectUri, scope: home.upstream.scope, state, nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
        ...(wanted >= 2 ? { acr_values: acrOf(wanted as Level) } : {}),
        ...(acr.essential ? { claims: JSON.stringify({ id_token: { acr: { essential: true, values: [acrOf(acr.essential)] } } }) } : {}),
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
      let u: Upstream;
      let config: client.Configuration;
      if (started.home) {
        if (!d.homes) throw invalidState();
        ({ upstream: u, config } = await d.homes.connect(started.home));
      } else {
        const configured: ConfiguredUpstream = d.upstreams.get(started.upstream);
        u = configured;
        config = await d.upstreams.client(configured);
      }
      const current = new URL(`${CALLBACK_PATH}${ctx.querystring ? `?${ctx.querystring}` : ''}`, d.issuer);
      try {
        const tokens = await client.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: started.verifier, expectedState: state, expectedNonce: started.nonce, idTokenExpected: true,
        });
        const claims = tokens.claims();
        if (!claims) throw new Error('no ID token');
        if (u.federation) {
          // R-ID-12: the level is kept exactly as proven at home, and a home vouches only up to what it may.
          const level = levelOf(claims.acr);
          if (level === undefined || level > u.level) {
            throw new AppError('RECOGNITION_LEVEL_INVALID', '注册平台声明的认证等级无效或超出其被认可的范围 / the home platform states an assurance level off the scale or above what it is trusted for', {
              home: u.federation.entityId, acr: typeof claims.acr === 'string' ? claims.acr.slice(0, 60) : null, allowed: acrOf(u.level as Level),
            });
          }
        }
        const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
        const identity = readIdentity(u, {
          issuer: config.serverMetadata().issuer, subject: claims.sub, acr: claims.acr, userinfo: userinfo as Record<string, unknown>, now: d.clock.now(),
        });
        if (u.federation) {
          const stated = levelOf(((userinfo.verified_claims as { verification?: { assurance_level?: unknown } } | undefined)?.verification)?.assurance_level);
          if (stated !== undefined && stated > u.level) {
            throw new AppError('RECOGNITION_LEVEL_INVALID', '注册平台声明的认证等级超出其被认可的范围 / the home platform states an assurance level above what it is trusted for', {
              home: u.federation.entityId, acr: acrOf(stated), allowed: acrOf(u.level as Level),
            });
          }
          const home: HomeTokens = {
            entityId: u.federation.entityId, idToken: tokens.id_token!,
            ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}), ...(typeof claims.sid === 'string' ? { sid: claims.sid } : {}),
          };
          return { intent: started.intent, upstream: u, identity, home };
        }
        return { intent: started.intent, upstream: u, identity };
      } catch (e) {
        if (e instanceof AppError) throw e;
        const err = e as { name?: string; code?: string; error?: string; message?: string; cause?: unknown };
        if (e instanceof TypeError && /fetch failed/i.test(err.message ?? '') || err.name === 'TimeoutError' || err.name === 'AbortError') {
          if (u.federation) throw homeError(e, u.federation.entityId);
          throw new AppError('UPSTREAM_UNAVAILABLE', '暂时无法连接该实名认证平台，请稍后再试 / the real-name platform cannot be reached right now; try again later', { upstream: u.id });
        }
        throw new AppError('LINK_CALLBACK_INVALID', '实名认证平台的应答未通过校验，请重新开始 / the platform\'s answer failed verification; start again', {
          upstream: u.id, error: err.error ?? err.code ?? 'invalid', reason: (err.message ?? '').slice(0, 200),
        });
      }
    },
  };
}
