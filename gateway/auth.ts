/**
 * The gateway's front door for identity: `Authorization: Bearer <access token>` or
 * `Authorization: DPoP <access token>` with a `DPoP` proof → Caller in `ctx.state.caller`.
 * No header: anonymous (R-ID-13: subgraphs decide what is public). Anything else ends the request
 * here with 401, a GraphQL-shaped error carrying the code, and a `WWW-Authenticate` challenge
 * (RFC 6750 §3, RFC 9449 §7.1): nothing reaches a subgraph.
 *
 * - A token bound to a key (`cnf.jkt`) must come with the `DPoP` scheme and a valid proof
 *   (gateway/dpop.ts); sent as `Bearer` it is refused (TOKEN_DPOP_REQUIRED): a stolen bound
 *   token is useless without its key. A token that is not bound, sent with the `DPoP` scheme, is
 *   refused too (RFC 9449 §7.2), so the scheme always says what was checked.
 * - Challenges: `Bearer error="invalid_token"` for a plain token; `DPoP error="invalid_token" |
 *   "invalid_dpop_proof" | "use_dpop_nonce"` (with `algs`) whenever DPoP was involved. A
 *   `use_dpop_nonce` answer carries `DPoP-Nonce`; a successful DPoP request carries the next
 *   nonce when it changed (RFC 9449 §8.2).
 */
import type { Context, Middleware } from 'koa';
import { AppError, isAppError } from '../kernel/errors.ts';
import type { Caller } from '../kernel/internal-auth.ts';
import { DPOP_ALGORITHMS, type DpopChecker } from './dpop.ts';
import type { TokenVerifier, VerifiedToken } from './tokens.ts';

/** RFC 6750 §2.1 / RFC 9449 §7.1: the scheme is case-insensitive; the token is a b64token. */
const AUTHORIZATION = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function graphqlErrorBody(e: AppError): { errors: Array<{ message: string; extensions: { code: string } }> } {
  return { errors: [{ message: e.message, extensions: { code: e.code } }] };
}

/** What the auth step found, for later steps (rate limits): the verified token, if any. */
export interface AuthState {
  caller: Caller;
  token?: VerifiedToken;
}

export interface TokenAuthOptions {
  verifier: TokenVerifier;
  /** Checks DPoP proofs; without it key-bound tokens are refused. */
  dpop?: DpopChecker;
}

const DPOP_ERRORS: Record<string, string> = {
  DPOP_PROOF_INVALID: 'invalid_dpop_proof',
  DPOP_NONCE_REQUIRED: 'use_dpop_nonce',
};

/** English, quoted-string safe (header values cannot carry the Chinese half of our messages). */
function description(e: AppError): string {
  const en = e.message.includes(' / ') ? e.message.slice(e.message.indexOf(' / ') + 3) : e.message;
  return en.replace(/["\\\r\n]/g, ' ');
}

function challenge(ctx: Context, e: AppError, dpop: boolean, checker: DpopChecker | undefined): void {
  const dpopError = DPOP_ERRORS[e.code];
  if (dpopError || dpop) {
    const error = dpopError ?? 'invalid_token';
    ctx.set('WWW-Authenticate', `DPoP error="${error}", error_description="${description(e)}", algs="${DPOP_ALGORITHMS.join(' ')}"`);
    if (e.code === 'DPOP_NONCE_REQUIRED' && checker) ctx.set('DPoP-Nonce', checker.nonce());
  } else if (e.code.startsWith('TOKEN_')) {
    ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
  }
}

/** The URL the client addressed, as the proof's `htu` must name it (scheme and host through TRUST_PROXY). */
function requestUrl(ctx: Context): string {
  return `${ctx.protocol}://${ctx.host}${ctx.path}`;
}

export function tokenAuth(o: TokenAuthOptions): Middleware {
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const state: AuthState = { caller: { kind: 'anonymous' } };
    if (header) {
      let dpopInvolved = false;
      try {
        const m = AUTHORIZATION.exec(header);
        if (!m?.[2]) throw new AppError('TOKEN_INVALID', '访问令牌格式错误 / the Authorization header must be "Bearer <token>" or "DPoP <token>"');
        const scheme = m[1]!.toLowerCase();
        const raw = m[2];
        dpopInvolved = scheme === 'dpop';
        const token = await o.verifier.verifyToken(raw);
        if (token.jkt) {
          dpopInvolved = true;
          if (scheme !== 'dpop') throw new AppError('TOKEN_DPOP_REQUIRED', '此访问令牌绑定了密钥，须以 DPoP 方式出示并附 DPoP 证明 / this access token is bound to a key: send it as "DPoP <token>" with a DPoP proof');
          if (!o.dpop) throw new AppError('TOKEN_DPOP_REQUIRED', '本服务不受理绑定密钥的令牌 / key-bound access tokens are not accepted here');
          const fresh = await o.dpop.check({ method: ctx.method, url: requestUrl(ctx), proof: ctx.get('dpop') || undefined, accessToken: raw, jkt: token.jkt });
          if (fresh) ctx.set('DPoP-Nonce', fresh);
        } else if (scheme === 'dpop') {
          throw new AppError('TOKEN_INVALID', '此访问令牌未绑定密钥，须以 Bearer 方式出示 / this access token is not bound to a key: send it as "Bearer <token>"');
        }
        state.caller = token.caller;
        state.token = token;
      } catch (e) {
        if (!isAppError(e)) throw e; // the HTTP shell logs it and answers INTERNAL
        ctx.status = e.status;
        challenge(ctx, e, dpopInvolved, o.dpop);
        ctx.set('Cache-Control', 'no-store');
        ctx.type = 'application/json';
        ctx.body = graphqlErrorBody(e);
        return;
      }
    }
    ctx.state.caller = state.caller;
    ctx.state.auth = state;
    await next();
  };
}

/** Bearer tokens only (key-bound tokens refused): the verifier alone. */
export function bearerAuth(verifier: TokenVerifier): Middleware {
  return tokenAuth({ verifier });
}
