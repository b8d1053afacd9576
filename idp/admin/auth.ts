/**
 * Who may use the admin API. An administrator is a **staff account** of this
 * IdP whose roles include `admin` (open, disable, request re-enabling, partner clients,
 * policies, audit) or `department-head` (approve a re-enable request; R-ID-9's second person).
 * They authenticate with a **bearer access token from this IdP for the admin resource**
 * (`<IDP_ISSUER>/admin`, scope `admin`), obtained by logging in through the first-party portal
 * client with `resource=<IDP_ISSUER>/admin` (partners cannot get one). The token is checked here
 * (RS256 signature with the IdP's own keys, issuer, audience, type at+jwt, expiry), then the
 * account is read afresh: a disabled account or a removed role stops working at once, whatever
 * the token says.
 */
import type { Context } from 'koa';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { AppError } from '../../kernel/errors.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { AccountStore } from '../accounts/store.ts';

export type AdminRole = 'admin' | 'department-head';
export const ADMIN_ROLES: readonly AdminRole[] = ['admin', 'department-head'];

export interface Admin { id: string; name: string; roles: string[] }

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

export function publicJwks(keys: JWK[]): { keys: JWK[] } {
  return { keys: keys.map((k) => Object.fromEntries(Object.entries(k).filter(([name]) => !PRIVATE_MEMBERS.includes(name))) as JWK) };
}

export type AdminAuthenticator = (ctx: Context, role: AdminRole) => Promise<Admin>;

export function createAdminAuthenticator(d: { issuer: string; audience: string; jwks: JWK[]; accounts: AccountStore; clock: Clock }): AdminAuthenticator {
  const keySet = createLocalJWKSet(publicJwks(d.jwks));
  return async (ctx, role) => {
    const auth = ctx.get('authorization');
    const token = /^Bearer [A-Za-z0-9._~+/=-]+$/.test(auth) ? auth.slice(7) : undefined;
    if (!token) throw new AppError('UNAUTHENTICATED', '请先以管理员身份登录 / an administrator access token is required');
    let sub: string;
    try {
      const { payload } = await jwtVerify(token, keySet, {
        issuer: d.issuer, audience: d.audience, typ: 'at+jwt', algorithms: ['RS256'], currentDate: d.clock.now(),
      });
      sub = String(payload.sub ?? '');
    } catch {
      throw new AppError('TOKEN_INVALID', '访问令牌无效 / the access token is invalid (admin API)');
    }
    const a = await d.accounts.findById(sub);
    if (!a || a.disabled || a.kind !== 'staff') throw new AppError('FORBIDDEN', '仅限管理人员 / administrators only');
    const roles = a.roles as string[];
    if (!roles.includes(role)) throw new AppError('FORBIDDEN', `需要 ${role} 角色 / this needs the ${role} role`, { role });
    return { id: a.id, name: a.name, roles };
  };
}
