/**
 * Internal account API for other services (not for browsers, not through the gateway):
 *
 *   GET /internal/accounts/:id   → { id, kind, name, idNumber, mobile, agencyCode } (mobile: for notices, R-CA-3 / R-CA-5)
 *
 * The licence service needs the holder's name and ID number to issue a licence. Callers must
 * present a service token for audience `urn:yiwang:idp` (kernel/internal-auth.ts): 401
 * UNAUTHENTICATED without one, 404 NOT_FOUND for an unknown id.
 */
import type { KeyObject } from 'node:crypto';
import type { Router } from '@koa/router';
import { AppError } from '../../kernel/errors.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Logger } from '../../kernel/log.ts';
import { verifyServiceToken } from '../../kernel/internal-auth.ts';
import type { AccountStore } from './store.ts';

export const IDP_SERVICE_AUDIENCE = 'urn:yiwang:idp';

export function mountInternal(router: Router, d: { accounts: AccountStore; key: KeyObject; clock: Clock; log: Logger }): void {
  router.get('/internal/accounts/:id', async (ctx) => {
    const auth = ctx.get('authorization');
    const token = /^Bearer [A-Za-z0-9._~+/=-]+$/.test(auth) ? auth.slice(7) : undefined;
    const caller = await verifyServiceToken(d.key, token, IDP_SERVICE_AUDIENCE, d.clock.now());
    const a = await d.accounts.findById(ctx.params.id ?? '');
    if (!a) throw new AppError('NOT_FOUND', '账户不存在 / no such account');
    d.log.debug({ caller, accountId: a.id }, 'internal account read');
    ctx.set('cache-control', 'no-store');
    ctx.body = { id: a.id, kind: a.kind, name: a.name, idNumber: a.idNumber, mobile: a.mobile ?? null, agencyCode: a.agencyCode };
  });
}
