/**
 * Reading what a licence QR code carries, from an uploaded picture of it (the public verify
 * page): PNG decoded by pngjs, JPEG by jpeg-js, the QR symbol by jsQR. And making the text a
 * QR code carries: the sealed licence itself when it fits, else a compact reference plus the
 * SHA-256 digest of the licence (R-LI-4), as a verify-page URL a phone opens directly.
 *
 * A reference stands in for a licence only when it is the whole input: the bare
 * `<licence id>.<digest>`, or exactly the verify URL this service prints
 * (`<LICENCE_PUBLIC_URL>/verify?ref=<reference>`, nothing else in it). Text that merely contains
 * `ref=` (a tampered licence with a genuine reference appended, a URL of another site) is not a
 * reference: it is verified as what it is, so what was submitted is what was verified.
 */
import { createHash } from 'node:crypto';
import jpeg from 'jpeg-js';
import jsqrModule from 'jsqr';
import { PNG } from 'pngjs';
import { AppError } from '../../kernel/errors.ts';

// jsqr is CommonJS with a `default` property: Node hands the function itself, TypeScript the module.
type JsQr = typeof jsqrModule.default;
const jsQR: JsQr = (typeof jsqrModule === 'function' ? jsqrModule : jsqrModule.default) as JsQr;

/** Bytes a QR code (version 40, level M) holds comfortably enough to scan from paper. */
export const QR_MAX_INLINE = 2000;
const MAX_PIXELS = 16_000_000;

export const isPng = (b: Buffer) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
export const isJpeg = (b: Buffer) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/** The text in the QR code of a PNG or JPEG picture; BAD_INPUT when there is none. */
export function decodeQrImage(image: Buffer): string {
  let px: { width: number; height: number; data: Uint8Array };
  try {
    if (isPng(image)) px = PNG.sync.read(image);
    else if (isJpeg(image)) px = jpeg.decode(image, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 256 });
    else throw new Error('not an image');
  } catch {
    throw new AppError('BAD_INPUT', '图片须为 PNG 或 JPEG / the picture must be a PNG or JPEG', { field: 'file' });
  }
  if (px.width * px.height > MAX_PIXELS) throw new AppError('BAD_INPUT', '图片过大 / the picture is too large', { field: 'file' });
  const code = jsQR(new Uint8ClampedArray(px.data.buffer, px.data.byteOffset, px.data.byteLength), px.width, px.height);
  if (!code?.data) throw new AppError('BAD_INPUT', '图片中未识别到二维码 / no QR code found in the picture', { field: 'file' });
  return code.data;
}

export const licenceDigest = (credential: string): string => createHash('sha256').update(credential.trim()).digest('base64url');

/** What the licence's QR code carries. */
export function qrText(o: { credential: string; licenceId: string; publicBase: string }): string {
  if (o.credential.length <= QR_MAX_INLINE) return o.credential;
  return `${o.publicBase.replace(/\/$/, '')}/verify?ref=${o.licenceId}.${licenceDigest(o.credential)}`;
}

const REF = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/i;

export interface Reference { licenceId: string; digest: string }

/** The bare reference `<licence id>.<digest>`; null for anything else. */
export function bareReference(text: string): Reference | null {
  const m = REF.exec(text);
  return m ? { licenceId: m[1]!.toLowerCase(), digest: m[2]! } : null;
}

/**
 * The reference when the whole (trimmed) text is one: bare, or the verify URL on `publicBase`
 * (same origin and path, `ref` its only query parameter, no fragment or credentials). Null
 * otherwise; never throws, whatever the percent-encoding.
 */
export function parseReference(text: string, publicBase: string): Reference | null {
  const t = text.trim();
  const bare = bareReference(t);
  if (bare || !/^https?:\/\//i.test(t)) return bare;
  let url: URL;
  let base: URL;
  try {
    url = new URL(t);
    base = new URL(`${publicBase.replace(/\/$/, '')}/verify`);
  } catch {
    return null;
  }
  const params = [...url.searchParams.keys()];
  if (url.origin !== base.origin || url.pathname !== base.pathname || url.username || url.password || url.hash || params.length !== 1 || params[0] !== 'ref') return null;
  return bareReference(url.searchParams.get('ref')!);
}
