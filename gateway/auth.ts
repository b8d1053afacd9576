/**
 * The gateway's front door for identity: `Authorization: Bearer <access token>` → Caller in
 * `ctx.state.caller`. No header: anonymous (R-ID-13: subgraphs decide what is public). A header
 * that is not a well-formed Bearer token, or a token that fails verification, ends the request
 * here with 401, a GraphQL-shaped error carrying the TOKEN_* code, and
 * `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3): nothing reaches a subgraph.
 */
import type { Middleware } from 'koa';
import { AppError, isAppError } from '../kernel/errors.ts';
import type { Caller } from '../kernel/internal-auth.ts';
import type { TokenVerifier } from './tokens.ts';

/** RFC 6750 §2.1: the scheme is case-insensitive; the token is a b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function graphqlErrorBody(e: AppError): { errors: Array<{ message: string; extensions: { code: string } }> } {
  return { errors: [{ message: e.message, extensions: { code: e.code } }] };
}

export function bearerAuth(verifier: TokenVerifier): Middleware {
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    let caller: Caller = { kind: 'anonymous' };
    if (header) {
      try {
        const m = BEARER.exec(header);
        if (!m?.[1]) throw new AppError('TOKEN_INVALID', '访问令牌格式错误 / the Authorization header must be "Bearer <token>"');
        caller = await verifier.verify(m[1]);
      } catch (e) {
        if (!isAppError(e)) throw e; // the HTTP shell logs it and answers INTERNAL
        const err = e;
        ctx.status = err.status;
        if (err.code.startsWith('TOKEN_')) ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
        ctx.set('Cache-Control', 'no-store');
        ctx.type = 'application/json';
        ctx.body = graphqlErrorBody(err);
        return;
      }
    }
    ctx.state.caller = caller;
    await next();
  };
}
