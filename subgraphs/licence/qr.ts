/**
 * Reading what a licence QR code carries, from an uploaded picture of it (the public verify
 * page): PNG decoded by pngjs, JPEG by jpeg-js, the QR symbol by jsQR. And making the text a
 * QR code carries: the sealed licence itself when it fits, else a compact reference plus the
 * SHA-256 digest of the licence (R-LI-4), as a verify-page URL a phone opens directly.
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

/** A compact reference (`<licence id>.<digest>`, alone or inside a verify URL); null otherwise. */
export function parseReference(text: string): { licenceId: string; digest: string } | null {
  let t = text.trim();
  const q = /[?&]ref=([^&#\s]+)/.exec(t);
  if (q) t = decodeURIComponent(q[1]!);
  const m = REF.exec(t);
  return m ? { licenceId: m[1]!.toLowerCase(), digest: m[2]! } : null;
}
