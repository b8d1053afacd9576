/**
 * The accepted material types, judged by the first bytes of the content (a name or a declared
 * content type proves nothing): PDF, JPEG, PNG, and OFD (GB/T 33190, the Chinese fixed-layout
 * format: a ZIP whose first entry is OFD.xml).
 */
export const ACCEPTED_TYPES = ['application/pdf', 'image/jpeg', 'image/png', 'application/ofd'] as const;
export type MediaType = (typeof ACCEPTED_TYPES)[number];

export function sniff(b: Buffer): MediaType | null {
  if (b.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  // A ZIP local file header is 30 bytes before the name: shorter bodies are simply not OFD.
  if (b.length >= 30 && b.readUInt32LE(0) === 0x04034b50 && b.subarray(30, 30 + b.readUInt16LE(26)).toString('latin1') === 'OFD.xml') return 'application/ofd';
  return null;
}
