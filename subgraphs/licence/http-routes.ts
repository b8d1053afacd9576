/**
 * Plain HTTP routes beside /graphql (not behind the gateway; anyone may call them, R-LI-4):
 *
 * - `GET /trust-bundle.pem`: the national root certificate, the trust anchor verifiers need.
 * - `POST /verify` with `{ credential }`: verify a sealed licence against that root and answer
 *   `{ valid, reason, message, licence }`; a body without a credential is 400 problem+json.
 *   The holder's ID number is masked in the answer (R-ID-11).
 */
import type { Router } from '@koa/router';
import { koaBody } from 'koa-body';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { maskIdNumber } from '../../kernel/ids.ts';
import { verifyLicence } from '../../seal/index.ts';
import type { TrustStore } from './trust.ts';

export interface VerifyAnswer {
  valid: boolean;
  reason: string | null;
  message: string | null;
  licence: {
    identifier: string; typeCode: string; typeName: string; number: string; holderName: string; holderCodeMasked: string;
    issuerName: string; issuerCode: string; issueDate: string; jurisdiction: string; validFrom: string; validUntil: string | null; signedAt: string;
  } | null;
}

/** Bounds the body: a sealed licence with a three-certificate chain is a few kilobytes. */
const MAX_CREDENTIAL_LENGTH = 64 * 1024;

/** koa-body's own refusals (unparsable, wrong type, too large) as coded problems rather than INTERNAL. */

export function mountLicenceRoutes(router: Router, o: { rootPem: string; trust: TrustStore; clock: Clock }): void {
  router.get('/trust-bundle.pem', (ctx) => {
    ctx.type = 'application/x-pem-file';
    ctx.set('content-disposition', 'inline; filename="trust-bundle.pem"');
    ctx.body = o.rootPem;
  });

  router.post('/verify', koaBody({ jsonLimit: '128kb' }), async (ctx) => {
    const body = (ctx.request as unknown as { body?: unknown }).body;
    const credential = typeof body === 'object' && body !== null ? (body as { credential?: unknown }).credential : undefined;
    if (typeof credential !== 'string' || credential.trim() === '' || credential.length > MAX_CREDENTIAL_LENGTH) {
      throw new AppError('BAD_INPUT', '请提供证照（credential）/ a credential is required', { credential: 'compact JWS string' });
    }
    const r = await verifyLicence(credential, {
      trustAnchorsPem: [o.rootPem], now: o.clock.now(), isCertificateRevoked: (serial, issuer) => o.trust.isRevoked(serial, issuer),
    });
    let answer: VerifyAnswer;
    if (r.valid) {
      const l = r.credential.credentialSubject.licence;
      answer = {
        valid: true, reason: null, message: null,
        licence: {
          identifier: l.identifier, typeCode: l.typeCode, typeName: l.typeName, number: l.number, holderName: l.holderName,
          holderCodeMasked: maskIdNumber(l.holderCode), issuerName: l.issuerName, issuerCode: l.issuerCode, issueDate: l.issueDate,
          jurisdiction: l.jurisdiction, validFrom: r.credential.validFrom, validUntil: r.credential.validUntil ?? null, signedAt: r.signedAt.toISOString(),
        },
      };
    } else {
      answer = { valid: false, reason: r.reason, message: r.message, licence: null };
    }
    ctx.body = answer;
  });
}
