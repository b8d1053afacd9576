import type { KeyObject } from 'node:crypto';

/** A certificate and the private key of the public key it certifies. */
export interface CertifiedKey {
  certPem: string;
  privateKey: KeyObject;
}
