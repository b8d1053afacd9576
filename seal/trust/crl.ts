/**
 * CRLs on the verifier's side: parsed once, and matched to a certificate of the path by the
 * key that signed them — a CRL counts for certificate i when its signature verifies with the
 * key of certificate i+1, the CA that issued it (RFC 5280 §6.3.3 (f); the key identifies the
 * CA more strictly than its name). An unparsable CRL is a configuration error.
 */
import { verify, type X509Certificate } from 'node:crypto';
import { AppError } from '../../kernel/errors.ts';
import { parseCrl, type ParsedCrl } from '../x509/index.ts';

const DIGESTS: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
};

export function loadCrls(inputs: readonly (string | Buffer)[]): ParsedCrl[] {
  return inputs.map((input, i) => {
    try {
      return parseCrl(input);
    } catch {
      throw new AppError('CONFIG_INVALID', `第 ${i + 1} 个证书吊销列表无法解析 / CRL ${i + 1} cannot be parsed`);
    }
  });
}

/** True when a CRL signed by `issuer` lists `cert`'s serial number. */
export function listedIn(crls: readonly ParsedCrl[], cert: X509Certificate, issuer: X509Certificate): boolean {
  const serial = cert.serialNumber.toUpperCase().replace(/^(00)+(?=.)/, '');
  for (const crl of crls) {
    if (!crl.revoked.has(serial)) continue;
    const digest = DIGESTS[crl.signatureAlgorithm];
    if (digest && verify(digest, crl.tbs, issuer.publicKey, crl.signature)) return true;
  }
  return false;
}
