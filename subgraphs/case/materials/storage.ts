/**
 * Where uploaded materials are kept: a storage interface, content-addressed by SHA-256, so a
 * repeated upload stores nothing new and every read is checked against its checksum. The default
 * is a local directory (CASE_MATERIALS_DIR, else <DATA_DIR>/materials); an S3-compatible store
 * implements the same two methods (not shipped: see docs/cases.md).
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../../kernel/errors.ts';

export interface MaterialStorage {
  /** Store bytes under their SHA-256 (hex); idempotent. */
  put(sha256: string, bytes: Buffer): Promise<void>;
  /** The bytes, checked against the checksum; null when absent. */
  get(sha256: string): Promise<Buffer | null>;
}

export const sha256Hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const HEX64 = /^[0-9a-f]{64}$/;

export function localStorage(dir: string): MaterialStorage {
  const path = (h: string) => {
    if (!HEX64.test(h)) throw new AppError('BAD_INPUT', 'bad checksum', { sha256: '64 hex digits' });
    return join(dir, h.slice(0, 2), h);
  };
  return {
    async put(h, bytes) {
      if (sha256Hex(bytes) !== h) throw new Error('material checksum does not match its content');
      const file = path(h);
      await mkdir(join(dir, h.slice(0, 2)), { recursive: true });
      // Write then rename: a reader never sees half a file.
      // Random part: two uploads of the same content at once must not share a temporary file.
      const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
      await writeFile(tmp, bytes, { mode: 0o600 });
      await rename(tmp, file);
    },
    async get(h) {
      const bytes = await readFile(path(h)).catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return null; throw e; });
      if (bytes && sha256Hex(bytes) !== h) throw new AppError('INTERNAL', `stored material ${h.slice(0, 12)}… is corrupt`);
      return bytes;
    },
  };
}
