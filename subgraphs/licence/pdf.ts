/**
 * The printable licence (R-LI-4): an A4 PDF made with pdfkit, its Chinese text set in
 * Noto Sans Hans (SIL OFL, shipped by the @embedpdf/fonts-sc package), embedded as a subset so
 * the PDF prints the same everywhere, whatever fonts the reader has. It carries the seal
 * impression (the seal certificate's stored image, else drawn: ./seal-image.ts), the QR code that verifies (./qr.ts) and the verify address.
 */
import QRCode from 'qrcode';
import { a4Document, fieldRows } from '../../kernel/pdf.ts';
import type { LicenceRecord } from './repository.ts';
import { arcGlyphs, starPoints } from './seal-image.ts';

const RED = '#d81e06';

export interface PdfInput {
  licence: LicenceRecord;
  qrText: string;
  verifyUrl: string;
  sealPurpose: string;
  /** The seal certificate's stored image (PNG, digest checked); null: drawn from the names. */
  sealImage?: Buffer | null | undefined;
  /** e.g. "有效 Valid" or "已撤销 Revoked", printed under the title. */
  statusLine: string;
}

function drawSeal(doc: PDFKit.PDFDocument, x: number, y: number, size: number, agency: string, purpose: string): void {
  const c = size / 2;
  doc.save().translate(x, y);
  doc.lineWidth(size * 0.03).strokeColor(RED).circle(c, c, size * 0.46).stroke();
  const pts = starPoints(c, c, size * 0.14);
  doc.polygon(...pts).fill(RED);
  doc.fillColor(RED).fontSize(size * 0.11);
  for (const g of arcGlyphs(agency, size)) {
    doc.save().translate(g.x, g.y).rotate(g.rotate).text(g.ch, -size * 0.055, -size * 0.07, { lineBreak: false }).restore();
  }
  doc.fontSize(size * 0.1).text(purpose, 0, size * 0.64, { width: size, align: 'center', lineBreak: false });
  doc.restore();
}

export async function renderLicencePdf(p: PdfInput): Promise<Buffer> {
  const qr = await QRCode.toBuffer(p.qrText, { errorCorrectionLevel: 'M', margin: 2, scale: 4 });
  const { doc, finish } = a4Document({ Title: `${p.licence.typeName} ${p.licence.number}`, Author: p.licence.issuerName, Subject: p.licence.identifier });
  const l = p.licence;
  doc.fillColor('#1d2733').fontSize(26).text(l.typeName, { align: 'center' });
  doc.moveDown(0.3).fontSize(11).fillColor('#52606d').text(`电子证照 Electronic licence · ${p.statusLine}`, { align: 'center' });
  doc.moveDown(1.5).fillColor('#1d2733');
  const rows: Array<[string, string]> = [
    ['证照编号 Number', l.number], ['持证人 Holder', l.holderName], ['证件号码 ID number', l.holderCodeMasked],
    ['发证机关 Issuer', `${l.issuerName}（${l.issuerCode}）`], ['发证日期 Issued', l.issuedAt.slice(0, 10)],
    ['有效期 Valid', `${l.validFrom.slice(0, 10)} 至 ${l.validUntil ? l.validUntil.slice(0, 10) : '长期 no end'}`],
    ['行政区划 Jurisdiction', l.jurisdiction], ['证照标识 Identifier', l.identifier],
  ];
  fieldRows(doc, rows, 130, 340);
  const left = doc.page.margins.left;
  const sealTop = doc.y + 20;
  if (p.sealImage) doc.image(p.sealImage, 330, sealTop, { width: 140 }); // the certified seal image (its SHA-256 is in the seal certificate)
  else drawSeal(doc, 330, sealTop, 140, l.issuerName, p.sealPurpose);
  doc.image(qr, left, sealTop, { width: 130 });
  doc.fontSize(9).fillColor('#52606d').text('扫码验证 Scan to verify', left, sealTop + 134, { width: 130, align: 'center' });
  doc.fontSize(9).text(`验证地址 Verify at: ${p.verifyUrl}`, left, sealTop + 170, { width: 480 });
  doc.text('本证照由发证机关电子印章签署，可离线验证：npx yiwang verify · Sealed with the issuing agency\'s electronic seal; verifiable offline.', { width: 480 });
  return finish();
}
