/**
 * The caller of the IdP's account API (`/account/api/*`, `/counter/*`, QR approval): a person or
 * staff member presenting an access token this IdP issued for the graph (the portal's or the
 * mobile app's, RFC 9068 JWT), verified locally with the IdP's own public keys, issuer and
 * audience. Not a cookie, so none of these endpoints can be driven cross-site (no CSRF).
 */
import type { ParameterizedContext } from 'koa';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { AppError } from '../../kernel/errors.ts';
import type { Clock } from '../../kernel/clock.ts';
import { levelOf, type Level } from '../accounts/assurance.ts';

export interface BearerCaller { sub: string; kind: 'person' | 'staff'; level: Level; roles: string[]; agency: string | null }

const PUBLIC = ['kty', 'kid', 'alg', 'use', 'n', 'e', 'crv', 'x', 'y'] as const;

export function bearerVerifier(d: { jwks: JWK[]; issuer: string; audience: string; clock: Clock }) {
  const keys = createLocalJWKSet({ keys: d.jwks.map((k) => Object.fromEntries(PUBLIC.filter((p) => k[p] !== undefined).map((p) => [p, k[p]])) as JWK) });
  return async function caller(ctx: ParameterizedContext): Promise<BearerCaller> {
    const auth = ctx.get('authorization');
    if (!/^Bearer [A-Za-z0-9._~+/=-]+$/.test(auth)) throw new AppError('UNAUTHENTICATED', '请先登录 / log in first');
    try {
      const { payload } = await jwtVerify(auth.slice(7), keys, {
        issuer: d.issuer, audience: d.audience, typ: 'at+jwt', currentDate: d.clock.now(),
      });
      const kind = payload.yw_kind === 'staff' ? 'staff' : 'person';
      return {
        sub: String(payload.sub), kind, level: levelOf(payload.acr) ?? 2,
        roles: Array.isArray(payload.yw_roles) ? payload.yw_roles.map(String) : [],
        agency: typeof payload.yw_agency === 'string' ? payload.yw_agency : null,
      };
    } catch {
      throw new AppError('TOKEN_INVALID', '访问令牌无效或已过期 / the access token is invalid or expired');
    }
  };
}
