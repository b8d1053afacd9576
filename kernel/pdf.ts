/**
 * Printable documents (licences, acceptance receipts): A4 PDFs made with pdfkit, Chinese set in
 * Noto Sans Hans (SIL OFL, shipped by the @embedpdf/fonts-sc package) and embedded as a subset,
 * so a document prints the same whatever fonts the reader has.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import PDFDocument from 'pdfkit';

// The package exports only its metadata module; the fonts sit beside it in fonts/.
export const CJK_FONT = join(dirname(createRequire(import.meta.url).resolve('@embedpdf/fonts-sc')), '..', 'fonts', 'NotoSansHans-Regular.otf');

/** A new A4 document in the CJK font; `finish()` ends it and resolves with the PDF bytes. */
export function a4Document(info: { Title: string; Author: string; Subject: string }): { doc: PDFKit.PDFDocument; finish(): Promise<Buffer> } {
  const doc = new PDFDocument({ size: 'A4', margin: 56, info });
  const chunks: Buffer[] = [];
  doc.on('data', (b: Buffer) => chunks.push(b));
  const done = new Promise<void>((resolve) => doc.on('end', () => resolve()));
  doc.font(CJK_FONT);
  return {
    doc,
    async finish() {
      doc.end();
      await done;
      return Buffer.concat(chunks);
    },
  };
}

/** Label / value rows from the left margin: labels grey and small, values as body text. */
export function fieldRows(doc: PDFKit.PDFDocument, rows: Array<[string, string]>, labelWidth: number, valueWidth: number): void {
  const left = doc.page.margins.left;
  for (const [k, v] of rows) {
    const y = doc.y;
    doc.fontSize(10).fillColor('#52606d').text(k, left, y, { width: labelWidth });
    doc.fontSize(12).fillColor('#1d2733').text(v, left + labelWidth + 10, y, { width: valueWidth });
    doc.moveDown(0.6);
  }
}
