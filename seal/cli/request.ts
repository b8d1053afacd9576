/**
 * `yiwang seal issue-seal --csr` / `issue-tsa --csr`: certifying a key the CA never sees. The
 * licence service keeps the seal's private key in its own key store and sends a PKCS #10
 * request; the CA reads it here, refuses what it must not sign, certifies the public key in it
 * and hands back the chain (certificate first, up to the root) for the service to install.
 *
 * Refused (exit 2, nothing written):
 * - a file that is not a PEM PKCS #10 request, whose self-signature does not verify (the
 *   requester does not hold the key), or whose key is not RSA of at least 2048 bits   SEAL_CSR_INVALID
 * - a seal request naming another agency (organizationIdentifier or O) than
 *   --agency-code / --agency-name                                                     SEAL_AGENCY_MISMATCH
 * The names in the certificate are the operator's options, never taken from the request.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppError } from '../../kernel/errors.ts';
import { CsrSyntaxError, readCsr, type CertificateRequest } from '../x509/index.ts';

export const MIN_RSA_BITS = 2048;

export function readRequestFile(cwd: string, file: string, agency?: { code: string; name: string }): CertificateRequest {
  const path = resolve(cwd, file);
  if (!existsSync(path)) throw new AppError('BAD_INPUT', `证书申请文件不存在 / request file not found: ${path}`, { option: 'csr' });
  let req: CertificateRequest;
  try {
    // PEM, or DER (openssl req -outform DER) wrapped as PEM.
    const bytes = readFileSync(path);
    const pem = /^\s*-----BEGIN /.test(bytes.subarray(0, 64).toString('latin1')) ? bytes.toString('utf8')
      : `-----BEGIN CERTIFICATE REQUEST-----\n${bytes.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE REQUEST-----\n`;
    req = readCsr(pem);
  } catch (e) {
    if (e instanceof CsrSyntaxError) throw new AppError('SEAL_CSR_INVALID', `证书申请无效 / invalid certificate request: ${e.message}`, { option: 'csr' });
    throw e;
  }
  if (req.modulusLength < MIN_RSA_BITS) {
    throw new AppError('SEAL_CSR_INVALID', `申请的密钥过短（${req.modulusLength} 位）/ the requested RSA key is shorter than ${MIN_RSA_BITS} bits`, { option: 'csr' });
  }
  const s = req.subject;
  if (agency && ((s.organizationIdentifier !== null && s.organizationIdentifier !== agency.code) || (s.organization !== null && s.organization !== agency.name))) {
    throw new AppError('SEAL_AGENCY_MISMATCH',
      `证书申请所属机构（${s.organization ?? '无'}，${s.organizationIdentifier ?? '无'}）与 --agency-name/--agency-code 不符 / the request names another agency than --agency-name/--agency-code`,
      { option: 'csr', found: s.organizationIdentifier });
  }
  return req;
}

/** `<base>/<CA id>.crl`: where the CA publishes the CRL that lists what it issued (RFC 5280 §4.2.1.13). */
export function cliCrlUrl(base: string | undefined, caId: string): string | undefined {
  if (base === undefined) return undefined;
  if (!/^https?:\/\/[^\s]+$/.test(base)) throw new AppError('BAD_INPUT', '--crl-base 须为 http(s) 地址 / --crl-base must be an http(s) URL', { option: 'crl-base' });
  return `${base.replace(/\/$/, '')}/${caId}.crl`;
}
