/**
 * The seal impression shown on a licence page and printed on its PDF: the classic round
 * official seal (red ring, the agency name along the upper arc, a five-pointed star, the seal's
 * purpose below), drawn from the seal certificate's own names — so the picture always matches
 * the certificate that signed the licence. One geometry for SVG (page) and PDF (./pdf.ts).
 */
import { html, type Html } from './pages/html.ts';

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
