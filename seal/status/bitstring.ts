/**
 * The bitstring of Bitstring Status List v1.0 (§3.1, §4.1 "Bitstring Expansion"): at least
 * 131,072 entries (16 KB) so one licence cannot be told from the crowd (§6.1 herd privacy),
 * GZIP-compressed, base64url without padding, multibase prefix `u`. Index 0 is the left-most
 * (most significant) bit of the first byte.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { decodeBase64Url } from '../lib/base64.ts';

export const MIN_LIST_ENTRIES = 131_072;
/** A decompressed list larger than this is refused (a zip bomb is cheap to make). */
const MAX_LIST_BYTES = 16 * 1024 * 1024;

export function emptyBitstring(entries = MIN_LIST_ENTRIES): Buffer {
  return Buffer.alloc(Math.ceil(Math.max(entries, MIN_LIST_ENTRIES) / 8));
}

export function bitAt(bits: Uint8Array, index: number): boolean {
  const byte = bits[index >> 3];
  if (byte === undefined) throw new RangeError('index outside the list');
  return (byte & (0x80 >> (index & 7))) !== 0;
}

export function setBit(bits: Uint8Array, index: number, on: boolean): void {
  if (index < 0 || (index >> 3) >= bits.length) throw new RangeError('index outside the list');
  const mask = 0x80 >> (index & 7);
  bits[index >> 3] = on ? (bits[index >> 3]! | mask) : (bits[index >> 3]! & ~mask);
}

export function encodeList(bits: Uint8Array): string {
  return `u${gzipSync(bits).toString('base64url')}`;
}

/** Null when the text is not a `u`-prefixed base64url GZIP list of at least 16 KB. */
export function decodeList(encoded: unknown): Buffer | null {
  if (typeof encoded !== 'string' || !encoded.startsWith('u')) return null;
  const raw = decodeBase64Url(encoded.slice(1));
  if (!raw) return null;
  try {
    const bits = gunzipSync(raw, { maxOutputLength: MAX_LIST_BYTES });
    return bits.length * 8 >= MIN_LIST_ENTRIES ? bits : null;
  } catch {
    return null;
  }
}
