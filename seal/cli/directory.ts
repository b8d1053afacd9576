/**
 * The offline seal CA's directory (`yiwang seal --dir`, default YIWANG_SEAL_DIR or
 * <DATA_DIR>/seal-ca): where an operator runs the trust hierarchy on a machine of its own,
 * apart from the licence service (whose demo hierarchy lives in its database).
 *
 *   index.json            every certificate: role, parent, serial, subject, validity, status,
 *                         the agency, seal name and image of a seal; CRL numbers per CA
 *   certs/<id>.pem        the certificates (public)
 *   keys/<id>.key.pem     private keys, encrypted (KeyStore, KEY_PASSPHRASE), mode 0600
 *   images/<id>.<ext>     seal images (the impression printed on licences)
 *   crl/<ca id>.crl.pem   the CRL each CA last published (RFC 5280 §5), and crl/<ca id>.crl
 *                         the same in DER, to publish at the --crl-base distribution point
 *   certs/<id>.chain.pem  for a certificate issued on a --csr request: its chain, to install
 *   trust-bundle.pem      written by `export-bundle` unless --out says elsewhere
 *
 * index.json is replaced atomically (write + rename), so an interrupted command leaves the
 * previous index intact; a key written without its index entry is harmless (never used).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CliIo } from './io.ts';

export type Role = 'root' | 'ca' | 'seal' | 'tsa';
export type CertStatus = 'active' | 'superseded' | 'revoked';

export interface CertRecord {
  id: string;
  role: Role;
  parentId: string | null;
  serialHex: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  status: CertStatus;
  createdAt: string;
  regionCode?: string;
  agencyName?: string;
  agencyCode?: string;
  sealName?: string;
  sealImage?: string;
  /** The private key is the requester's (issued from a --csr request): none in keys/. */
  keyHeldElsewhere?: boolean;
  /** The seal certificate this one replaced (rotate). */
  replaces?: string;
  revokedAt?: string;
  revocationReason?: string;
  /** keyCompromise: since when the key is known or suspected to be compromised (the CRL's invalidityDate). */
  invalidityDate?: string;
}

export interface Index {
  version: 1;
  certificates: CertRecord[];
  crlNumbers: Record<string, number>;
}

export function sealDir(io: CliIo, flag: string | undefined): string {
  return resolve(io.cwd, flag ?? io.env.YIWANG_SEAL_DIR ?? join(io.env.DATA_DIR || './data', 'seal-ca'));
}

export class SealDirectory {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  get exists(): boolean {
    return existsSync(join(this.dir, 'index.json'));
  }

  read(): Index {
    if (!this.exists) return { version: 1, certificates: [], crlNumbers: {} };
    return JSON.parse(readFileSync(join(this.dir, 'index.json'), 'utf8')) as Index;
  }

  write(index: Index): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = join(this.dir, `index.json.${process.pid}.tmp`);
    writeFileSync(tmp, `${JSON.stringify(index, null, 2)}\n`);
    renameSync(tmp, join(this.dir, 'index.json'));
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  certPem(id: string): string {
    return readFileSync(this.path('certs', `${id}.pem`), 'utf8');
  }

  writeFile(parts: string[], content: string | Buffer): string {
    return writeAt(this.path(...parts), content);
  }

  /** Certificate PEMs from `id` up to its root (x5c order). */
  chain(index: Index, id: string): string[] {
    const out: string[] = [];
    let r = index.certificates.find((c) => c.id === id);
    while (r && out.length < 6) {
      out.push(this.certPem(r.id));
      r = r.parentId ? index.certificates.find((c) => c.id === r!.parentId) : undefined;
    }
    return out;
  }
}

/** Write a file, making its folder first; returns the path. */
export function writeAt(file: string, content: string | Buffer): string {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, content);
  return file;
}
