/**
 * Plain HTTP routes beside /graphql (not behind the gateway; anyone may call them, R-LI-4):
 *
 * - `GET /trust-bundle.pem`: the trust anchors verifiers need: the service's own root (platform
 *   mode) and the configured LICENCE_TRUST_ANCHORS (the national root of an outside CA).
 * - `GET /crl/<CA id>.crl`: the CA's current CRL (PEM; DER with Accept: application/pkix-crl),
 *   the CRL distribution point named in the seal certificates it issues; `GET /crl/<name>.crl`
 *   also serves the outside CA's latest imported CRL (./crl-import.ts) where the installed
 *   certificates of that CA name <LICENCE_PUBLIC_URL>/crl/<name>.crl.
 * - `GET /status/:agency/:purpose`: the agency's sealed status-list credential (Bitstring
 *   Status List v1.0, `application/vc+jwt`), cacheable until it expires.
 * - `POST /verify` with JSON `{ credential }`: verify and answer `{ valid, reason, message,
 *   licence }`; a body without a credential is 400 problem+json. The same route takes the verify
 *   page's form (multipart: pasted text, a licence file, or a QR picture) and answers HTML.
 * - `GET /verify`: the verify page; `GET /verify?ref=<licence id>.<digest>` verifies what a QR
 *   code points to (anything else in `ref` is BAD_INPUT on the form: a reference is never mixed
 *   with a credential).
 * - `POST /internal/licences/check`: the case service's licence check (./internal-check.ts).
 * - the holder's licence pages and share links (./presentation-routes.ts).
 * The holder's ID number is masked in every answer (R-ID-11).
 */
import { readFileSync, rmSync } from 'node:fs';
import type { Router } from '@koa/router';
import { koaBody } from 'koa-body';
import type { Clock } from '../../kernel/clock.ts';
import type { Db } from '../../kernel/db.ts';
import { AppError, isAppError } from '../../kernel/errors.ts';
import type { StatusPurpose } from '../../seal/index.ts';
import { bareReference, decodeQrImage, isJpeg, isPng } from './qr.ts';
import { sealedStatusList } from './status.ts';
import type { TrustStore } from './trust.ts';
import type { CrlImports } from './crl-import.ts';
import type { Verify } from './verify-answer.ts';
import { verifyForm, verifyResult } from './pages/verify-page.ts';

export type { VerifyAnswer } from './verify-answer.ts';

/** Bounds the body: a sealed licence with a three-certificate chain and a timestamp is a few kilobytes. */
const MAX_CREDENTIAL_LENGTH = 64 * 1024;
const MAX_UPLOAD = 2 * 1024 * 1024;

interface Upload { filepath: string; size: number }

function uploaded(ctx: { request: unknown }, evenEmpty = false): Upload | undefined {
  const files = (ctx.request as { files?: Record<string, Upload | Upload[] | undefined> }).files;
  const f = files?.file;
  const one = Array.isArray(f) ? f[0] : f;
  return one && (evenEmpty || one.size > 0) ? one : undefined;
}

/** The licence text of the verify form: the pasted text, else the uploaded file or QR picture. */
function formInput(ctx: { request: unknown }, body: Record<string, unknown>): string {
  const pasted = typeof body.credential === 'string' ? body.credential.trim() : '';
  if (pasted) return pasted;
  const file = uploaded(ctx);
  if (!file) throw new AppError('BAD_INPUT', '请粘贴证照或上传文件 / paste a licence or upload a file', { credential: 'text or file' });
  const bytes = readFileSync(file.filepath);
  if (isPng(bytes) || isJpeg(bytes)) return decodeQrImage(bytes);
  return bytes.toString('utf8').trim();
}

const parseVerifyBody = koaBody({
  jsonLimit: '128kb', multipart: true, formLimit: '128kb',
  formidable: { maxFileSize: MAX_UPLOAD, maxFiles: 1, maxFields: 5, allowEmptyFiles: true, minFileSize: 0 },
});

/**
 * The body of POST /verify, parsed. A body the parser refuses is the sender's mistake: over a
 * limit (a file over MAX_UPLOAD, too many fields) PAYLOAD_TOO_LARGE, anything else malformed
 * BAD_INPUT — on the verify form for the page's own requests, problem+json for JSON. Only a
 * fault the parser reports as its own (5xx: e.g. no temp folder) stays an internal error.
 */
async function verifyBody(ctx: Parameters<typeof parseVerifyBody>[0], next: () => Promise<unknown>): Promise<void> {
  try {
    await parseVerifyBody(ctx, async () => {});
  } catch (e) {
    const { httpCode, status } = (typeof e === 'object' && e !== null ? e : {}) as { httpCode?: unknown; status?: unknown };
    const code = typeof httpCode === 'number' ? httpCode : typeof status === 'number' ? status : 400;
    if (code >= 500) throw e;
    const problem = code === 413
      ? new AppError('PAYLOAD_TOO_LARGE', `上传内容过大（文件不超过 ${MAX_UPLOAD / 1024 / 1024} MB）/ the upload is too large (a file up to ${MAX_UPLOAD / 1024 / 1024} MB)`)
      : new AppError('BAD_INPUT', '无法读取提交的内容 / the submitted form cannot be read', { credential: 'text or file' });
    if (!ctx.is('multipart/form-data', 'application/x-www-form-urlencoded')) throw problem;
    ctx.status = problem.status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = verifyForm({ code: problem.code, message: problem.message });
    return;
  }
  await next();
}

export function mountLicenceRoutes(router: Router, o: {
  anchorsPem: string[]; trust: TrustStore; crls: CrlImports; clock: Clock; db: Db; verify: Verify; statusBase: string; statusTtlMs: number;
}): void {
  router.get('/trust-bundle.pem', (ctx) => {
    ctx.type = 'application/x-pem-file';
    ctx.set('content-disposition', 'inline; filename="trust-bundle.pem"');
    ctx.body = o.anchorsPem.join('');
  });

  // The CRL a seal certificate names as its distribution point (RFC 5280 §5), so an offline verifier can fetch it:
  // PEM by default, DER with Accept: application/pkix-crl. The service's own CAs by id; an
  // outside CA's imported CRL by the name its certificates give.
  router.get('/crl/:file', async (ctx) => {
    const file = (ctx.params as { file: string }).file;
    const id = /^([0-9a-f-]{36})\.crl$/.exec(file)?.[1];
    const own = id ? await o.trust.crl(id) : null;
    const der = own ? Buffer.from(own.replace(/-----[A-Z0-9 ]+-----/g, '').replace(/\s/g, ''), 'base64')
      : /^[A-Za-z0-9._-]{1,128}\.crl$/.test(file) ? await o.crls.servedAt(file) : null;
    if (!der) throw new AppError('NOT_FOUND', '没有该证书吊销列表 / no such CRL');
    // Revalidated on every use: a seal the service revokes is listed at once (nextUpdate still bounds offline copies).
    ctx.set('cache-control', 'public, no-cache');
    if (ctx.accepts('application/x-pem-file', 'application/pkix-crl') === 'application/pkix-crl') {
      ctx.type = 'application/pkix-crl';
      ctx.body = der;
    } else {
      ctx.type = 'application/x-pem-file';
      ctx.body = `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END X509 CRL-----\n`;
    }
  });

  router.get('/status/:agency/:purpose', async (ctx) => {
    const { agency, purpose } = ctx.params as { agency: string; purpose: string };
    const found = /^[0-9A-Z]{18}$/.test(agency) && (purpose === 'revocation' || purpose === 'suspension')
      ? await sealedStatusList(o.db, o.trust, { agencyCode: agency, purpose: purpose as StatusPurpose, base: o.statusBase, ttlMs: o.statusTtlMs, now: o.clock.now() })
      : null;
    if (!found) throw new AppError('NOT_FOUND', '没有该状态列表 / no such status list');
    const maxAge = Math.max(0, Math.floor((found.validUntil.getTime() - o.clock.now().getTime()) / 1000));
    ctx.type = 'application/vc+jwt';
    ctx.set('cache-control', `public, max-age=${maxAge}`);
    ctx.set('expires', found.validUntil.toUTCString());
    ctx.body = found.jws;
  });

  router.get('/verify', async (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    const ref = ctx.query.ref;
    if (ref === undefined) {
      ctx.body = verifyForm();
      return;
    }
    if (typeof ref !== 'string' || !bareReference(ref)) {
      ctx.status = 400;
      ctx.body = verifyForm({ code: 'BAD_INPUT', message: '二维码链接中的证照引用无效 / the licence reference in the link is not valid' });
      return;
    }
    ctx.body = verifyResult(await o.verify(ref));
  });

  router.post('/verify', verifyBody, async (ctx) => {
    const body = ((ctx.request as unknown as { body?: unknown }).body ?? {}) as Record<string, unknown>;
    if (ctx.is('multipart/form-data', 'application/x-www-form-urlencoded')) {
      ctx.type = 'text/html; charset=utf-8';
      try {
        const input = formInput(ctx, body);
        if (input.length > MAX_CREDENTIAL_LENGTH) throw new AppError('BAD_INPUT', '内容过长 / the input is too long', { credential: 'too long' });
        ctx.body = verifyResult(await o.verify(input));
      } catch (e) {
        if (!isAppError(e)) throw e;
        ctx.status = e.status;
        ctx.body = verifyForm({ code: e.code, message: e.message });
      } finally {
        // formidable leaves uploads in the temp folder; what a verifier uploads is not kept.
        const file = uploaded(ctx, true);
        if (file) rmSync(file.filepath, { force: true });
      }
      return;
    }
    const credential = typeof body === 'object' && body !== null ? body.credential : undefined;
    if (typeof credential !== 'string' || credential.trim() === '' || credential.length > MAX_CREDENTIAL_LENGTH) {
      throw new AppError('BAD_INPUT', '请提供证照（credential）/ a credential is required', { credential: 'compact JWS string' });
    }
    ctx.body = await o.verify(credential);
  });
}
