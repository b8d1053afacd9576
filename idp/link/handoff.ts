/**
 * What the platform's callback hands on (R-ID-3), kept in the cache for HANDOFF_TTL:
 *
 * - a pending registration: the identity the platform vouched for, waiting for the person to
 *   accept the agreement; found through a random handle in the `yw_link` cookie (HttpOnly,
 *   SameSite=Lax, path /register/link), stored only as its hash; dropped once the account exists;
 * - a finished platform login for an interaction: taken once by `/interaction/:uid/linked`
 *   (one DEL wins), which completes the login.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ParameterizedContext } from 'koa';
import type { Cache } from '../../kernel/cache.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Level } from '../accounts/assurance.ts';
import type { UpstreamIdentity } from './identity.ts';

export interface PendingRegistration { upstream: string; identity: UpstreamIdentity; uid?: string }
export interface UpstreamLogin { accountId: string; level: Level; upstream: string }

const PENDING_COOKIE = 'yw_link';
const HANDOFF_TTL = 15 * 60;

export interface Handoff {
  keepPending(ctx: ParameterizedContext, p: PendingRegistration): Promise<void>;
  /** This browser's pending registration (LINK_STATE_INVALID when there is none). */
  pending(ctx: ParameterizedContext): Promise<PendingRegistration>;
  dropPending(ctx: ParameterizedContext): Promise<void>;
  putLogin(uid: string, l: UpstreamLogin): Promise<void>;
  /** INTERACTION_EXPIRED when no platform login waits for this interaction (or it was taken). */
  takeLogin(uid: string): Promise<UpstreamLogin>;
}

const digest = (v: string) => createHash('sha256').update(`yiwang.idp.link-pending:${v}`).digest('base64url');

export function createHandoff(cache: Cache): Handoff {
  const pendingKey = (ctx: ParameterizedContext) => {
    const handle = ctx.cookies.get(PENDING_COOKIE, { signed: false });
    return handle && /^[A-Za-z0-9_-]{32}$/.test(handle) ? `link:pending:${digest(handle)}` : undefined;
  };
  const loginKey = (uid: string) => `link:login:${uid}`;
  return {
    async keepPending(ctx, p) {
      const handle = randomBytes(24).toString('base64url');
      await cache.set(`link:pending:${digest(handle)}`, JSON.stringify(p), { ttlSeconds: HANDOFF_TTL });
      ctx.cookies.set(PENDING_COOKIE, handle, { httpOnly: true, sameSite: 'lax', path: '/register/link', secure: ctx.secure, signed: false, overwrite: true, maxAge: HANDOFF_TTL * 1000 });
    },
    async pending(ctx) {
      const key = pendingKey(ctx);
      const raw = key ? await cache.get(key) : null;
      if (!raw) throw new AppError('LINK_STATE_INVALID', '关联注册已失效，请重新从实名认证平台开始 / this linked registration has expired; start again from the real-name platform');
      return JSON.parse(raw) as PendingRegistration;
    },
    async dropPending(ctx) {
      const key = pendingKey(ctx);
      if (key) await cache.del(key);
      ctx.cookies.set(PENDING_COOKIE, null, { path: '/register/link', signed: false, overwrite: true });
    },
    async putLogin(uid, l) {
      await cache.set(loginKey(uid), JSON.stringify(l), { ttlSeconds: HANDOFF_TTL });
    },
    async takeLogin(uid) {
      const raw = await cache.get(loginKey(uid));
      if (!raw || await cache.del(loginKey(uid)) !== 1) {
        throw new AppError('INTERACTION_EXPIRED', '登录请求已失效，请返回应用重新登录 / this login request has expired; go back to the application and start again');
      }
      return JSON.parse(raw) as UpstreamLogin;
    },
  };
}
