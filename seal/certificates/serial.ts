/**
 * Random certificate serial numbers. RFC 5280 §4.1.2.2: positive, at most 20 octets, unique per
 * issuer; CA/Browser Forum practice: at least 64 random bits. 16 random bytes with the first
 * byte forced into 0x40..0x7f keep the INTEGER positive and DER-minimal (no 0x00 pad needed)
 * and leave 126 random bits.
 */
import { randomBytes } from 'node:crypto';

export function randomSerialHex(): string {
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x3f) | 0x40;
  return b.toString('hex');
}
