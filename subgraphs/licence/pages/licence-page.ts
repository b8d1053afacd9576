/**
 * A licence as a page (R-LI-4): for its holder (`Licence.viewUrl`) or for a verifier
 * holding a share link. The facts (ID number masked, R-ID-11), the live status, the seal
 * impression, the QR code that verifies, and links to the printable PDF and the signed file.
 */
import type { LicenceRecord } from '../repository.ts';
import type { VerifyAnswer } from '../verify-answer.ts';
import { html, layout } from './html.ts';
import { sealSvg } from '../seal-image.ts';

export interface LicencePageInput {
  licence: LicenceRecord;
  verification: VerifyAnswer;
  purpose: 'view' | 'share';
  expiresAt: Date;
  qrDataUrl: string;
  pdfHref: string;
  jwsHref: string;
  sealPurpose: string;
  /** The seal certificate's stored image, digest checked (../seal-image.ts sealImageOf); null: draw it. */
  sealImage?: Buffer | null | undefined;
}

export function statusLine(v: VerifyAnswer): string {
  if (v.valid) return '有效 Valid';
  if (v.reason === 'LICENCE_REVOKED') return '已撤销 Revoked';
  if (v.reason === 'LICENCE_SUSPENDED') return '已暂停 Suspended';
  if (v.reason === 'LICENCE_EXPIRED') return '已过期 Expired';
  return `无效 Invalid (${v.reason ?? ''})`;
}

export function licencePage(p: LicencePageInput): string {
  const l = p.licence;
  const rows: Array<[string, string]> = [
    ['证照编号 Number', l.number], ['持证人 Holder', l.holderName], ['证件号码 ID number', l.holderCodeMasked],
    ['发证机关 Issuer', `${l.issuerName}（${l.issuerCode}）`], ['发证日期 Issued', l.issuedAt.slice(0, 10)],
    ['有效期 Valid', `${l.validFrom.slice(0, 10)} – ${l.validUntil ? l.validUntil.slice(0, 10) : '长期 no end'}`], ['证照标识 Identifier', l.identifier],
  ];
  const banner = p.purpose === 'share'
    ? html`<p class="hint">持证人分享的证照，链接有效至 ${p.expiresAt.toISOString()}。<br>Shared by the holder; this link works until ${p.expiresAt.toISOString()}.</p>`
    : '';
  return layout({
    title: `${l.typeName}`,
    body: html`${banner}<div class="result ${p.verification.valid ? 'valid' : 'invalid'}" role="status" data-valid="${String(p.verification.valid)}" data-code="${p.verification.reason ?? ''}">
<strong>${statusLine(p.verification)}</strong>${p.verification.valid ? html` · 印章、证书链和状态已验证 the seal, chain and status verified` : html` · ${p.verification.message ?? ''}`}</div>
<div class="licence"><dl class="fields">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
<div>${p.sealImage
    ? html`<img class="seal" alt="${l.issuerName} 电子印章 electronic seal" data-source="certificate" src="data:image/png;base64,${p.sealImage.toString('base64')}">`
    : sealSvg(l.issuerName, p.sealPurpose)}</div></div>
<p><img class="qr" alt="验证二维码 QR code to verify this licence" src="${p.qrDataUrl}"><br><span class="hint">扫码验证 Scan to verify</span></p>
<p class="noprint"><a class="button" href="${p.pdfHref}">下载 PDF Download PDF</a> <a class="button" href="${p.jwsHref}" download>下载签名证照 Download signed licence</a>
<button type="button" onclick="window.print()">打印 Print</button></p>`,
  });
}
