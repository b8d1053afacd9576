/**
 * The acceptance receipt (受理通知书, R-CA-6): an A4 PDF made with pdfkit, Chinese set in Noto
 * Sans Hans (the @embedpdf/fonts-sc package, as the licence PDF does), with the case number, the
 * tracking code and a QR code holding the public tracking address.
 */
import QRCode from 'qrcode';
import { a4Document, fieldRows } from '../../../kernel/pdf.ts';
import type { CaseRecord } from '../repository.ts';

export interface ReceiptInput { case: CaseRecord; acceptedAt: string; trackingUrl: string; trackingCode: string }

const cst = (iso: string) => new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');

export async function renderReceiptPdf(p: ReceiptInput): Promise<Buffer> {
  const c = p.case;
  const qr = await QRCode.toBuffer(p.trackingUrl, { errorCorrectionLevel: 'M', margin: 2, scale: 4 });
  const { doc, finish } = a4Document({ Title: `受理通知书 ${c.caseNumber}`, Author: c.agencyName, Subject: c.caseNumber });
  doc.fillColor('#1d2733').fontSize(24).text('受理通知书', { align: 'center' });
  doc.moveDown(0.2).fontSize(11).fillColor('#52606d').text('Notice of acceptance', { align: 'center' });
  doc.moveDown(1.2).fillColor('#1d2733').fontSize(12)
    .text(`${c.applicantName}：`)
    .moveDown(0.4)
    .text(`您申请的“${c.itemName}”事项，本机关已于${cst(p.acceptedAt)}受理。请凭办件编号和查询码查询办理进度。`)
    .moveDown(0.2).fontSize(10).fillColor('#52606d')
    .text(`Your application for "${c.itemName}" was accepted. Track it with the case number and tracking code below.`);
  doc.moveDown(1).fillColor('#1d2733');
  const rows: Array<[string, string]> = [
    ['办件编号 Case number', c.caseNumber], ['查询码 Tracking code', p.trackingCode], ['受理机关 Agency', c.agencyName],
    ['提交时间 Submitted', cst(c.submittedAt)], ['受理时间 Accepted', cst(p.acceptedAt)],
    ['办理时限 Deadline', c.deadlineAt ? `${cst(c.deadlineAt).slice(0, 10)}（工作日计算 working days）` : '—'],
  ];
  fieldRows(doc, rows, 150, 320);
  const left = doc.page.margins.left;
  const top = doc.y + 16;
  doc.image(qr, left, top, { width: 130 });
  doc.fontSize(9).fillColor('#52606d').text('扫码查询进度 Scan to track', left, top + 134, { width: 130, align: 'center' });
  doc.fontSize(9).text(p.trackingUrl, left + 150, top + 40, { width: 330 });
  return finish();
}
