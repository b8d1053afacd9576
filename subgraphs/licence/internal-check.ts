/**
 * `POST /internal/licences/check` (R-LI-2): the case service asks whether a
 * licence reference an applicant gave instead of an upload belongs to that applicant, is of
 * the licence type the item's material accepts, and is valid and not revoked or suspended now.
 * Service-to-service only: a bearer token from kernel/internal-auth.ts signServiceToken with
 * audience `urn:yiwang:licence` (UNAUTHENTICATED otherwise).
 *
 * Request  { licenceId? | identifier?, holderId, typeCode? }
 * Answer   200 { ok, reason, message, licence }
 *   ok true:  licence = { id, identifier, typeCode, typeName, number, holderName, issuerName,
 *             issuerCode, validFrom, validUntil }
 *   ok false: reason NOT_FOUND (no such licence, or not this holder's: deliberately the same
 *             answer), LICENCE_CHECK_FAILED (another licence type), or the verifier's code
 *             (LICENCE_REVOKED, LICENCE_SUSPENDED, LICENCE_EXPIRED, …) — the stored licence is
 *             verified in full, exactly as a third party would.
 */
import type { Router } from '@koa/router';
import type { KeyObject } from 'node:crypto';
import { koaBody } from 'koa-body';
import type { Clock } from '../../kernel/clock.ts';
import type { Queryable } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import { verifyServiceToken } from '../../kernel/internal-auth.ts';
import { LICENCE_SCHEMA as S } from './migrations.ts';
import type { Verify } from './verify-answer.ts';

export const LICENCE_AUDIENCE = 'urn:yiwang:licence';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CheckAnswer {
  ok: boolean;
  reason: string | null;
  message: string | null;
  licence: {
    id: string; identifier: string; typeCode: string; typeName: string; number: string; holderName: string;
    issuerName: string; issuerCode: string; validFrom: string; validUntil: string | null;
  } | null;
}

const text = (v: unknown, max = 200): string | undefined => (typeof v === 'string' && v.trim() && v.length <= max ? v.trim() : undefined);

export function mountInternalCheck(router: Router, o: { db: Queryable; key: KeyObject; clock: Clock; verify: Verify }): void {
  router.post('/internal/licences/check', async (ctx, next) => {
    // Authenticate before reading the body: an unauthenticated caller gets nothing parsed.
    const caller = await verifyServiceToken(o.key, ctx.get('authorization').replace(/^Bearer\s+/i, '') || undefined, LICENCE_AUDIENCE, o.clock.now());
    ctx.state.service = caller;
    await next();
  }, koaBody({ jsonLimit: '16kb' }), async (ctx) => {
    const body = ((ctx.request as unknown as { body?: unknown }).body ?? {}) as Record<string, unknown>;
    const licenceId = text(body.licenceId);
    const identifier = text(body.identifier);
    const holderId = text(body.holderId);
    const typeCode = body.typeCode === undefined ? undefined : text(body.typeCode);
    if ((!licenceId === !identifier) || !holderId || (body.typeCode !== undefined && !typeCode) || (licenceId && !UUID.test(licenceId))) {
      throw new AppError('BAD_INPUT', '需要 licenceId 或 identifier 之一，以及 holderId / one of licenceId or identifier, and holderId, are required',
        { licenceId: 'uuid', identifier: 'GB/T 36904 identifier', holderId: 'account id', typeCode: 'optional licence type code' });
    }
    const { rows } = await o.db.query<{
      id: string; type_code: string; holder_id: string; credential: string;
    }>(`select * from ${S}.licences where ${licenceId ? 'id' : 'identifier'} = $1`, [licenceId ?? identifier]);
    const l = rows[0];
    let answer: CheckAnswer;
    if (!l || l.holder_id !== holderId) {
      answer = { ok: false, reason: 'NOT_FOUND', message: '该持证人没有此证照 / the holder has no such licence', licence: null };
    } else if (typeCode && l.type_code !== typeCode) {
      answer = { ok: false, reason: 'LICENCE_CHECK_FAILED', message: `证照类型不符（需要 ${typeCode}）/ another licence type (${typeCode} required)`, licence: null };
    } else {
      const v = await o.verify(l.credential);
      // What is answered is what was verified: the sealed licence's own fields, not the row beside it.
      const sealed = v.valid ? v.licence : null;
      answer = sealed
        ? {
          ok: true, reason: null, message: null,
          licence: {
            id: l.id, identifier: sealed.identifier, typeCode: sealed.typeCode, typeName: sealed.typeName, number: sealed.number, holderName: sealed.holderName,
            issuerName: sealed.issuerName, issuerCode: sealed.issuerCode, validFrom: sealed.validFrom, validUntil: sealed.validUntil,
          },
        }
        : { ok: false, reason: v.reason, message: v.message, licence: null };
    }
    ctx.body = answer;
  });
}
