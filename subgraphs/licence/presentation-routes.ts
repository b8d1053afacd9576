/**
 * The holder's licence page and share links (R-LI-4):
 *
 * - `GET /licences/view/:token`              the licence page (./pages/licence-page.ts)
 * - `GET /licences/view/:token/licence.pdf`  the printable PDF (./pdf.ts)
 * - `GET /licences/view/:token/licence.jws`  the signed licence itself, to verify offline
 *
 * The token (./links.ts) names the licence and expires; an unknown, forged or expired one is
 * SHARE_LINK_INVALID (404, an HTML page for the page route). Answers are never cached by shared
 * caches (`private, no-store`): a link is for whom it was given to.
 */
import type { Router } from '@koa/router';
import type { KeyObject } from 'node:crypto';
import QRCode from 'qrcode';
import type { Clock } from '../../kernel/clock.ts';
import type { Db } from '../../kernel/db.ts';
import { AppError, isAppError } from '../../kernel/errors.ts';
import { readLink } from './links.ts';
import { html, layout } from './pages/html.ts';
import { licencePage, statusLine } from './pages/licence-page.ts';
import { renderLicencePdf } from './pdf.ts';
import { qrText } from './qr.ts';
import { SEAL_PURPOSE, sealImageOf } from './seal-image.ts';
import { findLicence, type LicenceRecord } from './repository.ts';
import type { Verify, VerifyAnswer } from './verify-answer.ts';

export { SEAL_PURPOSE };

/**
 * The licence as shown: once it verified, its facts are the sealed licence's own (what the
 * verification vouched for), never the stored row beside it; an invalid one keeps the row's facts
 * under its "invalid" banner.
 */
function shown(licence: LicenceRecord, v: VerifyAnswer): LicenceRecord {
  const s = v.valid ? v.licence : null;
  if (!s) return licence;
  return {
    ...licence, identifier: s.identifier, typeCode: s.typeCode, typeName: s.typeName, number: s.number, holderName: s.holderName,
    holderCodeMasked: s.holderCodeMasked, issuerName: s.issuerName, issuerCode: s.issuerCode, jurisdiction: s.jurisdiction,
    validFrom: s.validFrom, validUntil: s.validUntil,
  };
}

export function mountPresentationRoutes(router: Router, o: { db: Db; key: KeyObject; clock: Clock; verify: Verify; publicBase: string }): void {
  async function load(token: string) {
    const link = await readLink(o.key, token, o.clock.now());
    const licence = await findLicence(o.db, link.licenceId);
    if (!licence) throw new AppError('SHARE_LINK_INVALID', '链接无效或已过期 / the link is invalid or has expired');
    return { link, licence, qr: qrText({ credential: licence.credential, licenceId: licence.id, publicBase: o.publicBase }) };
  }

  router.get('/licences/view/:token', async (ctx) => {
    ctx.set('cache-control', 'private, no-store');
    ctx.type = 'text/html; charset=utf-8';
    try {
      const { link, licence, qr } = await load(ctx.params.token!);
      const base = `/licences/view/${ctx.params.token}`;
      const verification = await o.verify(licence.credential);
      ctx.body = licencePage({
        licence: shown(licence, verification), verification, purpose: link.purpose, expiresAt: link.expiresAt,
        qrDataUrl: await QRCode.toDataURL(qr, { errorCorrectionLevel: 'M', margin: 2, scale: 4 }),
        pdfHref: `${base}/licence.pdf`, jwsHref: `${base}/licence.jws`, sealPurpose: SEAL_PURPOSE, sealImage: await sealImageOf(o.db, licence.credential),
      });
    } catch (e) {
      if (!isAppError(e)) throw e;
      ctx.status = 404;
      ctx.body = layout({ title: '链接无效 Link not valid', body: html`<div class="result invalid" role="alert" data-code="SHARE_LINK_INVALID">链接无效或已过期，请向持证人索取新链接。<br>The link is invalid or has expired; ask the holder for a new one.</div>` });
    }
  });

  router.get('/licences/view/:token/licence.pdf', async (ctx) => {
    const { licence, qr } = await load(ctx.params.token!);
    const verification = await o.verify(licence.credential);
    ctx.set('cache-control', 'private, no-store');
    ctx.type = 'application/pdf';
    ctx.set('content-disposition', `inline; filename="licence-${licence.number}.pdf"`);
    ctx.body = await renderLicencePdf({ licence: shown(licence, verification), qrText: qr, verifyUrl: `${o.publicBase.replace(/\/$/, '')}/verify`, sealPurpose: SEAL_PURPOSE, sealImage: await sealImageOf(o.db, licence.credential), statusLine: statusLine(verification) });
  });

  router.get('/licences/view/:token/licence.jws', async (ctx) => {
    const { licence } = await load(ctx.params.token!);
    ctx.set('cache-control', 'private, no-store');
    ctx.type = 'application/vc+jwt';
    ctx.set('content-disposition', `attachment; filename="licence-${licence.number}.jws"`);
    ctx.body = licence.credential;
  });
}
