/**
 * The seal impression shown on a licence page and printed on its PDF: the classic round
 * official seal (red ring, the agency name along the upper arc, a five-pointed star, the seal's
 * purpose below). One geometry for SVG and PDF (./pdf.ts).
 *
 * The certified impression: each agency seal certificate the service issues gets a seal image — this seal
 * rendered once to PNG (resvg, with the PDF's own Noto Sans Hans font) and stored with the
 * certificate, whose seal-image extension carries its SHA-256. Pages and PDFs draw that stored
 * image, found from the certificate that actually sealed the licence (x5c[0]) and only when its
 * digest matches the certificate (sealImageOf); licences sealed before seals had images fall
 * back to the impression drawn from the names.
 */
import { createHash } from 'node:crypto';
import { Resvg } from '@resvg/resvg-js';
import type { Queryable } from '../../kernel/db.ts';
import { CJK_FONT } from '../../kernel/pdf.ts';
import { loadCertificate } from '../../seal/index.ts';
import { LICENCE_SCHEMA as S } from './migrations.ts';
import { html, type Html } from './pages/html.ts';

export const SEAL_PURPOSE = '电子证照专用章';
const PNG_SIZE = 320;

export interface SealGlyph { ch: string; x: number; y: number; rotate: number }

/** Star points around (cx, cy). */
export function starPoints(cx: number, cy: number, r: number): Array<[number, number]> {
  const pts: Array<[number, number]> = [];
  for (let i = 0; i < 10; i++) {
    const radius = i % 2 === 0 ? r : r * 0.382;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    pts.push([cx + radius * Math.cos(a), cy + radius * Math.sin(a)]);
  }
  return pts;
}

/** The agency name's characters along the upper arc (size = diameter). */
export function arcGlyphs(text: string, size: number): SealGlyph[] {
  const chars = [...text];
  const c = size / 2;
  const r = size * 0.36;
  const span = Math.min(250, 22 * chars.length) * (Math.PI / 180);
  return chars.map((ch, i) => {
    const a = -Math.PI / 2 - span / 2 + (chars.length === 1 ? span / 2 : (i * span) / (chars.length - 1));
    return { ch, x: c + r * Math.cos(a), y: c + r * Math.sin(a), rotate: (a * 180) / Math.PI + 90 };
  });
}

export function sealSvg(agencyName: string, purpose: string, size = 160): Html {
  const c = size / 2;
  const star = starPoints(c, c, size * 0.14).map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  const font = size * 0.11;
  return html`<svg class="seal" role="img" aria-label="${agencyName} 电子印章 electronic seal" viewBox="0 0 ${size} ${size}" xmlns="http://www.w3.org/2000/svg">
<circle cx="${c}" cy="${c}" r="${size * 0.46}" fill="none" stroke="#d81e06" stroke-width="${size * 0.03}"/>
<polygon points="${star}" fill="#d81e06"/>
${arcGlyphs(agencyName, size).map((g) => html`<text x="${g.x.toFixed(1)}" y="${g.y.toFixed(1)}" fill="#d81e06" font-size="${font}" text-anchor="middle" dominant-baseline="central" transform="rotate(${g.rotate.toFixed(1)} ${g.x.toFixed(1)} ${g.y.toFixed(1)})">${g.ch}</text>`)}
<text x="${c}" y="${size * 0.74}" fill="#d81e06" font-size="${font * 0.9}" text-anchor="middle">${purpose}</text></svg>`;
}

/** The generated seal image: sealSvg rendered to a transparent PNG (PNG_SIZE px). */
export function renderSealPng(agencyName: string, purpose: string): Buffer {
  const svg = String(sealSvg(agencyName, purpose, PNG_SIZE))
    .replace('<svg ', `<svg width="${PNG_SIZE}" height="${PNG_SIZE}" `)
    .replace(/<text /g, '<text font-family="Noto Sans Hans" ');
  const font = { fontFiles: [CJK_FONT], loadSystemFonts: false, defaultFontFamily: 'Noto Sans Hans' };
  return Buffer.from(new Resvg(svg, { font, background: 'rgba(0,0,0,0)' }).render().asPng());
}

/**
 * The stored image of the seal certificate that sealed `credential` (its x5c[0]), only when its
 * SHA-256 equals the digest bound in that certificate; null otherwise (no image, or a mismatch).
 */
export async function sealImageOf(q: Queryable, credential: string): Promise<Buffer | null> {
  try {
    const header = JSON.parse(Buffer.from(credential.split('.')[0] ?? '', 'base64url').toString()) as { x5c?: unknown };
    const first = Array.isArray(header.x5c) ? header.x5c[0] : undefined;
    if (typeof first !== 'string') return null;
    const seal = loadCertificate(Buffer.from(first, 'base64'));
    const digest = seal.profile.sealImageSha256;
    if (!digest) return null;
    const pem = seal.cert.toString();
    const { rows } = await q.query<{ seal_image: Uint8Array | null; cert_pem: string }>(
      `select seal_image, cert_pem from ${S}.certificates where role = 'seal' and serial_hex = $1`, [seal.cert.serialNumber.toUpperCase()]);
    const row = rows.find((r) => r.cert_pem.replace(/\s/g, '') === pem.replace(/\s/g, ''));
    if (!row?.seal_image) return null;
    const image = Buffer.from(row.seal_image);
    return createHash('sha256').update(image).digest('hex') === digest ? image : null;
  } catch {
    return null;
  }
}
