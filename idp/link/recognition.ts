/**
 * A recognised person's local sessions follow their home platform (R-ID-12):
 *
 * - remember: after a cross-tier login the home's ID token, refresh token and session id are
 *   kept in the cache (`recog:home:<accountId>`, as long as a login session lives here),
 *   encrypted (AES-256-GCM under `tokensKey`, derived from KEY_PASSPHRASE: a persisted Redis holds no
 *   usable home token), never logged.
 * - stillValid: oidc-provider's findAccount asks it at every refresh_token grant here for a
 *   recognised account (a link `via recognition`): the home's refresh token is refreshed at the
 *   home (private_key_jwt). A home account disabled or deleted since (the home's findAccount
 *   refuses), a home session ended (back-channel logout reached us, the tokens are gone), or a
 *   chain that no longer validates ends the refresh here too (invalid_grant). A home that cannot
 *   be reached also refuses it: a recognition that cannot be checked is not extended.
 * - back-channel logout (OpenID Connect Back-Channel Logout 1.0) at POST /link/backchannel-logout:
 *   the home's `logout_token` is verified with the keys of its RESOLVED metadata (`jwks_uri`),
 *   issuer = the home's issuer, audience = our Entity Identifier, the back-channel event, no
 *   nonce, at most 5 minutes old, its `jti` used once; then every local session of the linked
 *   account is ended (grants revoked, so refresh tokens stop) and the act audited.
 * - RP-initiated logout here also ends the home session: after oidc-provider's end-session
 *   confirmation (the whole session logged out) for a recognised account, the browser is sent to
 *   the home's `end_session_endpoint` (id_token_hint, post_logout_redirect_uri
 *   `<issuer>/link/logged-out`, state), and from there back to where our logout was going.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import type { Router } from '@koa/router';
import type { ParameterizedContext } from 'koa';
import { koaBody } from 'koa-body';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Provider } from 'oidc-provider';
import * as client from 'openid-client';
import type { Cache } from '../../kernel/cache.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Db } from '../../kernel/db.ts';
import type { Logger } from '../../kernel/log.ts';
import type { AuditLog } from '../audit/log.ts';
import type { Sessions } from '../self-service/sessions.ts';
import { html, page, pageLang } from '../web/html.ts';
import type { HomeTokens } from './flow.ts';
import type { Homes } from './homes.ts';
import type { LinkStore } from './links.ts';
import { openSecret, sealSecret } from '../partners/clients.ts';

export const BACKCHANNEL_LOGOUT_PATH = '/link/backchannel-logout';
export const LOGGED_OUT_PATH = '/link/logged-out';
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** As long as a login session here (idp/oidc/provider.ts SESSION_TTL). */
const HOME_TTL = 8 * 3600;
const LOGOUT_TTL = 10 * 60;

export interface Recognition {
  remember(accountId: string, home: HomeTokens): Promise<void>;
  /** false: the account is recognised and its home no longer vouches for it (refresh refused). */
  stillValid(accountId: string): Promise<boolean>;
  mount(router: Router, sessions: Sessions): void;
  /** After oidc-provider's end-session confirmation: on to the home's end_session_endpoint. */
  chainLogout(provider: Provider): void;
}

const homeKey = (accountId: string) => `recog:home:${accountId}`;

export function createRecognition(d: { homes: Homes; links: LinkStore; cache: Cache; db: Db; audit: AuditLog; clock: Clock; log: Logger; issuer: string; tokensKey: KeyObject }): Recognition {
  const { homes, links, cache, log } = d;
  const { tokensKey } = d;
  const keep = (accountId: string, home: HomeTokens) => cache.set(homeKey(accountId), sealSecret(tokensKey, JSON.stringify(home)), { ttlSeconds: HOME_TTL });
  /** The home's tokens kept for the account; none when absent or not readable (another key). */
  const kept = async (accountId: string): Promise<HomeTokens | undefined> => {
    const raw = await cache.get(homeKey(accountId));
    if (!raw) return undefined;
    try {
      return JSON.parse(openSecret(tokensKey, raw)) as HomeTokens;
    } catch {
      return undefined;
    }
  };
  const jwksByUri = new Map<string, JWTVerifyGetKey>();
  const loggedOut = new URL(LOGGED_OUT_PATH, d.issuer).href;

  async function recognisedLink(accountId: string) {
    return (await links.ofAccount(accountId)).find((l) => l.via === 'recognition' && l.entityId);
  }

  async function endLocalSessions(sessions: Sessions, accountId: string): Promise<number> {
    let ended = 0;
    for (const s of await sessions.list(accountId)) {
      await sessions.end(accountId, s.id).then(() => { ended++; }, () => undefined);
    }
    await cache.del(homeKey(accountId));
    return ended;
  }

  return {
    async remember(accountId, home) {
      await keep(accountId, home);
    },

    async stillValid(accountId) {
      const link = await recognisedLink(accountId);
      if (!link) return true;
      const home = await kept(accountId);
      if (!home?.refreshToken) {
        log.info({ accountId }, 'recognised account refresh refused: no home session to check');
        return false;
      }
      try {
        const { config } = await homes.connect(home.entityId);
        const fresh = await client.refreshTokenGrant(config, home.refreshToken);
        await keep(accountId, { ...home, refreshToken: fresh.refresh_token ?? home.refreshToken });
        return true;
      } catch (e) {
        const err = e as { code?: string; error?: string };
        log.info({ accountId, home: home.entityId, reason: err.code ?? err.error ?? 'failed' }, 'recognised account refresh refused by its home');
        if (err.error === 'invalid_grant') await cache.del(homeKey(accountId));
        return false;
      }
    },

    mount(router, sessions) {
      const form = koaBody({ urlencoded: true, json: false, multipart: false, text: false, formLimit: '16kb' });
      const bad = (ctx: ParameterizedContext, description: string) => {
        ctx.status = 400;
        ctx.set('cache-control', 'no-store');
        ctx.body = { error: 'invalid_request', error_description: description };
      };

      router.post(BACKCHANNEL_LOGOUT_PATH, form, async (ctx) => {
        const token = ((ctx.request.body ?? {}) as Record<string, unknown>).logout_token;
        if (typeof token !== 'string' || token.length > 8192) return bad(ctx, 'logout_token missing');
        let iss: string;
        try {
          iss = String(decodeJwt(token).iss ?? '');
        } catch {
          return bad(ctx, 'logout_token is not a JWT');
        }
        let claims;
        let entityId: string;
        try {
          // The home as the federation says it is now; its keys from its resolved metadata.
          const home = await homes.connect(iss);
          entityId = home.entry.entityId;
          const uri = home.config.serverMetadata().jwks_uri!;
          let jwks = jwksByUri.get(uri);
          if (!jwks) jwksByUri.set(uri, jwks = createRemoteJWKSet(new URL(uri)));
          ({ payload: claims } = await jwtVerify(token, jwks, {
            issuer: home.config.serverMetadata().issuer, audience: homes.self, maxTokenAge: '5m', currentDate: d.clock.now(), clockTolerance: 60,
          }));
        } catch (e) {
          log.info({ reason: (e as { code?: string }).code ?? 'invalid' }, 'back-channel logout refused');
          return bad(ctx, 'logout_token failed verification');
        }
        const events = claims.events as Record<string, unknown> | undefined;
        if (!events || typeof events !== 'object' || !(BACKCHANNEL_EVENT in events) || 'nonce' in claims || typeof claims.sub !== 'string' || typeof claims.jti !== 'string') {
          return bad(ctx, 'not a back-channel logout token');
        }
        if (!(await cache.set(`recog:logout-jti:${entityId}:${claims.jti}`, '1', { ttlSeconds: 600, nx: true }))) return bad(ctx, 'logout_token replayed');
        const link = await links.find(String(claims.iss), claims.sub);
        if (link) {
          const ended = await endLocalSessions(sessions, link.accountId);
          await d.db.tx((q) => d.audit.append(q, {
            actorId: link.accountId, action: 'account.recognition.logout', target: link.accountId, details: { home: entityId, sessions: ended, via: 'backchannel' },
          }, d.clock.now()));
          log.info({ accountId: link.accountId, home: entityId, sessions: ended }, 'home platform logged a recognised person out');
        }
        ctx.status = 200;
        ctx.set('cache-control', 'no-store');
        ctx.body = '';
      });

      router.get(LOGGED_OUT_PATH, async (ctx) => {
        const state = typeof ctx.query.state === 'string' && /^[A-Za-z0-9_-]{20,64}$/.test(ctx.query.state) ? ctx.query.state : '';
        const key = `recog:logout:${state}`;
        const next = state ? await cache.get(key) : null;
        if (next && await cache.del(key) === 1) {
          ctx.status = 303;
          ctx.redirect(next);
          return;
        }
        const lang = pageLang(ctx);
        ctx.type = 'html';
        ctx.set('cache-control', 'no-store');
        ctx.body = page({ lang, path: LOGGED_OUT_PATH, title: lang === 'zh' ? '已退出登录' : 'Logged out', body: html`<p role="status">${lang === 'zh' ? '您已在本平台和注册平台退出登录。' : 'You have logged out here and at your home platform.'}</p>` });
      });
    },

    chainLogout(provider) {
      (provider as unknown as { use(mw: (ctx: ParameterizedContext & { oidc?: any }, next: () => Promise<void>) => Promise<void>): void }).use(async (ctx, next) => {
        await next();
        if (ctx.oidc?.route !== 'end_session_confirm' || ctx.status !== 303 || !ctx.oidc.params?.logout) return;
        const accountId: unknown = ctx.oidc.session?.accountId;
        if (typeof accountId !== 'string') return;
        const home = await kept(accountId);
        if (!home) return;
        await cache.del(homeKey(accountId));
        try {
          const { config } = await homes.connect(home.entityId);
          if (!config.serverMetadata().end_session_endpoint) return;
          const state = randomBytes(24).toString('base64url');
          await cache.set(`recog:logout:${state}`, String(ctx.response.get('location') || new URL('/', d.issuer).href), { ttlSeconds: LOGOUT_TTL });
          ctx.redirect(client.buildEndSessionUrl(config, { id_token_hint: home.idToken, post_logout_redirect_uri: loggedOut, state }).href);
          log.info({ accountId, home: home.entityId }, 'recognised person logged out here: on to the home platform');
        } catch (e) {
          // The home cannot be reached: the local logout stands; its back-channel or expiry ends the rest.
          log.warn({ accountId, home: home.entityId, reason: (e as { code?: string }).code ?? 'failed' }, 'home logout not reached');
        }
      });
    },
  };
}
