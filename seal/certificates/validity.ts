/**
 * Validity windows. notBefore is the issuing time to the second (X.509 times have no
 * fractions); notAfter adds whole years, and is cut at the issuer's own notAfter so a
 * certificate never outlives the certificate that vouches for it (RFC 5280 §6.1.3 checks every
 * certificate of a path at the time that matters).
 */
import { X509Certificate } from 'node:crypto';
import { AppError } from '../../kernel/errors.ts';

export function validityWindow(now: Date, years: number, issuerCertPem?: string): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(now.getTime())) throw new AppError('BAD_INPUT', '签发时间无效 / invalid issuing time');
  if (!Number.isInteger(years) || years < 1 || years > 50) throw new AppError('BAD_INPUT', '有效期年数须为 1-50 / years must be 1-50');
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  let notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + years);
  if (issuerCertPem) {
    const issuer = new X509Certificate(issuerCertPem);
    const issuerEnd = issuer.validToDate;
    if (issuerEnd.getTime() <= notBefore.getTime()) {
      throw new AppError('BAD_INPUT', '签发机构证书已过期 / the issuing CA certificate has expired');
    }
    if (notAfter > issuerEnd) notAfter = issuerEnd;
  }
  return { notBefore, notAfter };
}
