/**
 * The national root CA (R-LI-3: one trusted seal service): a self-signed RSA 3072 certificate,
 * basicConstraints cA (critical), keyUsage keyCertSign + cRLSign (critical), RFC 5280 §4.2.1.9.
 */
import { generateKeyPairSync } from 'node:crypto';
import { buildCertificate } from '../x509/index.ts';
import type { CertifiedKey } from './types.ts';
import { randomSerialHex } from './serial.ts';
import { validityWindow } from './validity.ts';

export function createRootCa(o: { commonName: string; organization?: string; now: Date; years?: number }): CertifiedKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const certPem = buildCertificate({
    subject: { commonName: o.commonName, organization: o.organization },
    publicKey,
    signingKey: privateKey,
    serialHex: randomSerialHex(),
    ...validityWindow(o.now, o.years ?? 20),
    basicConstraints: { cA: true },
    keyUsage: ['keyCertSign', 'cRLSign'],
    extKeyUsage: null,
  });
  return { certPem, privateKey };
}
