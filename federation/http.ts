/**
 * The federation endpoints as a Koa router (OpenID Federation 1.0):
 *
 * - `GET /.well-known/openid-federation`: this platform's Entity Configuration (9);
 * - `GET /federation/fetch?sub=…`: the Subordinate Statement about a registered subordinate (8.1);
 * - `GET /federation/list[?entity_type=…]`: the registered subordinates (8.2);
 * - `GET /federation/resolve?sub=…&trust_anchor=…[&entity_type=…]`: resolved metadata and the
 *   trust chain, signed (8.3; at the trust anchor).
 *
 * Errors use the specification's error response (8.9: `error`, `error_description`) and carry
 * the platform's stable `code` beside it.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { AppError, isAppError, type ErrorCode } from '../kernel/errors.ts';
import type { Logger } from '../kernel/log.ts';
import { FEDERATION_PATHS, type FederationEntity } from './entity.ts';
import { ENTITY_STATEMENT_MEDIA_TYPE, RESOLVE_RESPONSE_MEDIA_TYPE, WELL_KNOWN_PATH } from './types.ts';

/** Specification error codes (8.9) for the platform's codes. */
const SPEC_ERROR: Partial<Record<ErrorCode, string>> = {
  BAD_INPUT: 'invalid_request',
  FEDERATION_SUBORDINATE_UNKNOWN: 'not_found',
  FEDERATION_ENTITY_ID_REFUSED: 'invalid_request',
  FEDERATION_UNTRUSTED: 'invalid_trust_chain',
  FEDERATION_SIGNATURE_INVALID: 'invalid_trust_chain',
  FEDERATION_CHAIN_EXPIRED: 'invalid_trust_chain',
  FEDERATION_STATEMENT_INVALID: 'invalid_trust_chain',
  FEDERATION_POLICY_INVALID: 'invalid_metadata',
  FEDERATION_POLICY_VIOLATION: 'invalid_metadata',
  FEDERATION_CONSTRAINT_VIOLATION: 'invalid_trust_chain',
  FEDERATION_METADATA_MISSING: 'invalid_metadata',
  FEDERATION_UNREACHABLE: 'temporarily_unavailable',
};

function param(ctx: Context, name: string, required: true): string;
function param(ctx: Context, name: string, required: false): string | undefined;
function param(ctx: Context, name: string, required: boolean): string | undefined {
  const v = ctx.query[name];
  if (Array.isArray(v)) throw new AppError('BAD_INPUT', `参数 ${name} 只能出现一次 / parameter ${name} given more than once`, { field: name });
  if (required && !v) throw new AppError('BAD_INPUT', `缺少参数 ${name} / missing parameter ${name}`, { field: name });
  return v || undefined;
}

export function federationRouter(entity: FederationEntity, log?: Logger): Router {
  const router = new Router();
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (e) {
      if (!isAppError(e)) {
        log?.error({ err: e }, 'federation endpoint failed');
        ctx.status = 500;
        ctx.body = { error: 'server_error', error_description: 'internal error', code: 'INTERNAL' };
        return;
      }
      ctx.status = e.status;
      ctx.set('cache-control', 'no-store');
      ctx.body = { error: SPEC_ERROR[e.code] ?? 'server_error', error_description: e.message, code: e.code, ...(e.details ? { details: e.details } : {}) };
    }
  });

  router.get(WELL_KNOWN_PATH, async (ctx) => {
    ctx.type = ENTITY_STATEMENT_MEDIA_TYPE;
    ctx.set('cache-control', 'no-cache');
    ctx.body = await entity.entityConfiguration();
  });

  if (entity.isAuthority) {
    router.get(FEDERATION_PATHS.fetch, async (ctx) => {
      const sub = param(ctx, 'sub', true);
      ctx.type = ENTITY_STATEMENT_MEDIA_TYPE;
      ctx.set('cache-control', 'no-cache');
      ctx.body = await entity.subordinateStatement(sub);
    });
    router.get(FEDERATION_PATHS.list, async (ctx) => {
      for (const p of ['trust_marked', 'trust_mark_type', 'intermediate']) {
        if (ctx.query[p] !== undefined) {
          ctx.status = 400;
          ctx.body = { error: 'unsupported_parameter', error_description: `参数 ${p} 不受支持 / parameter ${p} is not supported`, code: 'BAD_INPUT' };
          return;
        }
      }
      ctx.body = await entity.listSubordinates({ entityType: param(ctx, 'entity_type', false) });
    });
  }

  if (entity.isTrustAnchor) {
    router.get(FEDERATION_PATHS.resolve, async (ctx) => {
      const sub = param(ctx, 'sub', true);
      const anchor = param(ctx, 'trust_anchor', true);
      const raw = ctx.query.entity_type;
      const types = raw === undefined ? undefined : Array.isArray(raw) ? raw : [raw];
      const jwt = await entity.resolveResponse(sub, anchor, types);
      ctx.type = RESOLVE_RESPONSE_MEDIA_TYPE;
      ctx.set('cache-control', 'no-cache');
      ctx.body = jwt;
    });
  }
  return router;
}
